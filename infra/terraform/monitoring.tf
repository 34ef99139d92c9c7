resource "aws_sns_topic" "alarms" {
  name = "${var.name}-alarms"
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alarm_email == "" ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# Any dead letter is a command a node could not process: a bug or a poisoned message.
resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${var.name}-dead-letters"
  alarm_description   = "Commands are in the dead-letter queue"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letter.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

# Heartbeats: an instance in service whose node does not report (the launch hook keeps booting
# instances out of service, so the two counts agree in a healthy group).
resource "aws_cloudwatch_metric_alarm" "missing_heartbeats" {
  alarm_name          = "${var.name}-missing-heartbeats"
  alarm_description   = "A media node in service has stopped reporting its capacity"
  evaluation_periods  = 3
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "missing"
    expression  = "inService - reporting"
    label       = "media nodes in service but not reporting"
    return_data = true
  }
  metric_query {
    id = "inService"
    metric {
      namespace   = "AWS/AutoScaling"
      metric_name = "GroupInServiceInstances"
      dimensions  = { AutoScalingGroupName = aws_autoscaling_group.media_nodes.name }
      stat        = "Minimum"
      period      = 60
    }
  }
  metric_query {
    id = "reporting"
    metric {
      namespace   = "Tessera"
      metric_name = "MediaNodesReporting"
      dimensions  = { Deployment = var.name }
      stat        = "Minimum"
      period      = 60
    }
  }
}

# No heartbeat at all (no node, or the metrics function itself fails).
resource "aws_cloudwatch_metric_alarm" "no_media_nodes" {
  alarm_name          = "${var.name}-no-media-nodes"
  alarm_description   = "No media node is reporting"
  namespace           = "Tessera"
  metric_name         = "MediaNodesReporting"
  dimensions          = { Deployment = var.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}
