import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS } from '../deployment.ts';

export interface MonitoringProps {
  name: string;
  deadLetterQueue: sqs.IQueue;
  mediaNodeGroupName: string;
  alarmEmail?: string | undefined;
}

/** Alarms an operator is paged for, on one SNS topic. */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Alarms', { displayName: `${props.name} alarms` });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const minute = Duration.minutes(1);
    const tessera = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: METRICS.namespace,
        metricName,
        dimensionsMap: { Deployment: props.name },
        statistic,
        period: minute,
      });

    // Any dead letter is a command a node could not process: a bug or a poisoned message.
    this.#alarm('DeadLetters', {
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: minute,
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: 'Commands are in the dead-letter queue',
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // Heartbeats: an instance in service whose node does not report (the launch hook keeps
    // booting instances out of service, so the two counts agree in a healthy group).
    this.#alarm('MissingHeartbeats', {
      metric: new cloudwatch.MathExpression({
        expression: 'inService - reporting',
        usingMetrics: {
          inService: new cloudwatch.Metric({
            namespace: 'AWS/AutoScaling',
            metricName: 'GroupInServiceInstances',
            dimensionsMap: { AutoScalingGroupName: props.mediaNodeGroupName },
            statistic: 'Minimum',
            period: minute,
          }),
          reporting: tessera(METRICS.reporting, 'Minimum'),
        },
        period: minute,
        label: 'media nodes in service but not reporting',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      alarmDescription: 'A media node in service has stopped reporting its capacity',
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    // No heartbeat at all (no node, or the metrics function itself fails).
    this.#alarm('NoMediaNodes', {
      metric: tessera(METRICS.reporting, 'Maximum'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      alarmDescription: 'No media node is reporting',
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }

  #alarm(id: string, props: cloudwatch.AlarmProps) {
    const alarm = new cloudwatch.Alarm(this, id, props);
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
