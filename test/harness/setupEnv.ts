import { inject } from 'vitest';

// The AWS SDK finds the emulators through the standard per-service endpoint variables,
// exactly as it would find LocalStack; product code takes no test-only endpoint options.
process.env.AWS_ENDPOINT_URL_DYNAMODB = inject('dynamodbEndpoint');
process.env.AWS_ENDPOINT_URL_SQS = inject('sqsEndpoint');
process.env.REDIS_URL = inject('redisUrl');
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
