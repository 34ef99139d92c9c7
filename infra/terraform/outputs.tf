output "http_api_url" {
  description = "Management API (REST /v1) and the SDK's HTTP calls."
  value       = aws_apigatewayv2_api.management.api_endpoint
}

output "websocket_url" {
  description = "Signaling: connect with ?token=<join token>."
  value       = "${aws_apigatewayv2_api.signaling.api_endpoint}/${local.websocket_stage}"
}

output "table_name" {
  description = "DynamoDB table (durable state)."
  value       = aws_dynamodb_table.state.name
}

output "recordings_bucket" {
  description = "S3 bucket of the recordings (kept: prevent_destroy)."
  value       = aws_s3_bucket.recordings.id
}

output "dead_letter_queue_url" {
  description = "Commands no media node could process."
  value       = aws_sqs_queue.dead_letter.url
}

output "super_service_key_secret_arn" {
  description = "The super service key: aws secretsmanager get-secret-value --secret-id <arn>."
  value       = aws_secretsmanager_secret.deployment["SUPER_SERVICE_KEY"].arn
}

output "alarm_topic_arn" {
  description = "Subscribe to be told of alarms."
  value       = aws_sns_topic.alarms.arn
}
