# The stateless functions from the same entries the local modes run (`npm run bundle:lambdas`):
# the management API behind an HTTP API, signaling behind a WebSocket API, cluster metrics each minute,
# webhooks from the events queue.
data "archive_file" "lambda" {
  for_each    = local.lambda_entries
  type        = "zip"
  source_dir  = "${local.lambda_bundle_dir}/${each.key}"
  output_path = "${path.module}/.build/${each.key}.zip"
}

locals {
  control_plane_environment = merge(
    {
      DYNAMODB_TABLE         = aws_dynamodb_table.state.name
      REDIS_URL              = local.redis_url
      SQS_QUEUE_PREFIX       = local.queue_prefix
      WS_MANAGEMENT_ENDPOINT = local.management_url
    },
    { for key, secret in aws_secretsmanager_secret.deployment : "${key}_ARN" => secret.arn },
  )
  function_environment = {
    http      = local.control_plane_environment
    websocket = local.control_plane_environment
    metrics   = { REDIS_URL = local.redis_url }
    webhooks = {
      # Streaming-outs' status (StreamingOutProjection) is live state.
      REDIS_URL        = local.redis_url
      DYNAMODB_TABLE   = aws_dynamodb_table.state.name
      SQS_QUEUE_PREFIX = local.queue_prefix
      MASTER_KEY_ARN   = aws_secretsmanager_secret.deployment["MASTER_KEY"].arn
    }
  }
  function_memory = { http = 1024, websocket = 1024, metrics = 256, webhooks = 256 }
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each           = local.lambda_entries
  name_prefix        = "${var.name}-${each.key}-"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy_attachment" "function_vpc" {
  for_each   = local.lambda_entries
  role       = aws_iam_role.function[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

# Least privilege: the table, the deployment's node queues (send only) and the secrets.
data "aws_iam_policy_document" "control_plane" {
  statement {
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:Query"]
    resources = [aws_dynamodb_table.state.arn, "${aws_dynamodb_table.state.arn}/index/*"]
  }
  statement {
    actions   = ["sqs:GetQueueUrl", "sqs:SendMessage"]
    resources = [local.node_queues_arn]
  }
  # GET /v1/dead-letters reads the dead letters and leaves them (visibility timeout 0).
  statement {
    actions   = ["sqs:GetQueueUrl", "sqs:ReceiveMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]
  }
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [for secret in aws_secretsmanager_secret.deployment : secret.arn]
  }
}

data "aws_iam_policy_document" "connections" {
  statement {
    actions = ["execute-api:ManageConnections"]
    resources = [
      for method in ["POST", "DELETE"] :
      "${aws_apigatewayv2_api.signaling.execution_arn}/${local.websocket_stage}/${method}/@connections/*"
    ]
  }
}

resource "aws_iam_role_policy" "control_plane" {
  for_each = toset(["http", "websocket"])
  role     = aws_iam_role.function[each.key].id
  policy   = data.aws_iam_policy_document.control_plane.json
}

# The webhook function: services' webhooks (read), recordings' records (query, put), its queue
# (consume, delay) and MASTER_KEY.
data "aws_iam_policy_document" "webhooks" {
  statement {
    actions   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.state.arn]
  }
  statement {
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
    resources = [aws_sqs_queue.events.arn]
  }
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.deployment["MASTER_KEY"].arn]
  }
}

resource "aws_iam_role_policy" "webhooks" {
  role   = aws_iam_role.function["webhooks"].id
  policy = data.aws_iam_policy_document.webhooks.json
}

# Partial batch responses: only the events whose delivery failed come back.
resource "aws_lambda_event_source_mapping" "webhooks" {
  event_source_arn        = aws_sqs_queue.events.arn
  function_name           = aws_lambda_function.function["webhooks"].arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]
}

resource "aws_iam_role_policy" "signaling_connections" {
  role   = aws_iam_role.function["websocket"].id
  policy = data.aws_iam_policy_document.connections.json
}

resource "aws_cloudwatch_log_group" "function" {
  for_each          = local.lambda_entries
  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = 30
}

resource "aws_lambda_function" "function" {
  for_each         = local.lambda_entries
  function_name    = "${var.name}-${each.key}"
  role             = aws_iam_role.function[each.key].arn
  runtime          = "nodejs22.x"
  architectures    = ["arm64"]
  handler          = "index.handler"
  filename         = data.archive_file.lambda[each.key].output_path
  source_code_hash = data.archive_file.lambda[each.key].output_base64sha256
  memory_size      = local.function_memory[each.key]
  timeout          = 29
  environment {
    variables = merge({ LOG_LEVEL = "info", DEPLOYMENT_NAME = var.name }, local.function_environment[each.key])
  }
  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.functions.id]
  }
  depends_on = [aws_cloudwatch_log_group.function, aws_iam_role_policy_attachment.function_vpc]
}

# Management API: every route to the http function (payload v2).
resource "aws_apigatewayv2_api" "management" {
  name          = "${var.name}-management"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "management" {
  api_id                 = aws_apigatewayv2_api.management.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.function["http"].invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "management" {
  api_id    = aws_apigatewayv2_api.management.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.management.id}"
}

resource "aws_apigatewayv2_stage" "management" {
  api_id      = aws_apigatewayv2_api.management.id
  name        = "$default"
  auto_deploy = true
}

# Signaling: $connect redeems the join token, $default carries requests, $disconnect cleans up.
resource "aws_apigatewayv2_api" "signaling" {
  name                       = "${var.name}-signaling"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"
}

resource "aws_apigatewayv2_integration" "signaling" {
  api_id           = aws_apigatewayv2_api.signaling.id
  integration_type = "AWS_PROXY"
  integration_uri  = aws_lambda_function.function["websocket"].invoke_arn
}

resource "aws_apigatewayv2_route" "signaling" {
  for_each  = toset(["$connect", "$disconnect", "$default"])
  api_id    = aws_apigatewayv2_api.signaling.id
  route_key = each.key
  target    = "integrations/${aws_apigatewayv2_integration.signaling.id}"
}

resource "aws_apigatewayv2_stage" "signaling" {
  api_id      = aws_apigatewayv2_api.signaling.id
  name        = local.websocket_stage
  auto_deploy = true
}

resource "aws_lambda_permission" "api" {
  for_each      = { http = aws_apigatewayv2_api.management.execution_arn, websocket = aws_apigatewayv2_api.signaling.execution_arn }
  statement_id  = "api-gateway"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.function[each.key].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${each.value}/*"
}

resource "aws_cloudwatch_event_rule" "metrics" {
  name                = "${var.name}-cluster-metrics"
  description         = "Tessera cluster metrics for alarms and media-node scaling"
  schedule_expression = "rate(1 minute)"
}

resource "aws_cloudwatch_event_target" "metrics" {
  rule = aws_cloudwatch_event_rule.metrics.name
  arn  = aws_lambda_function.function["metrics"].arn
}

resource "aws_lambda_permission" "metrics" {
  statement_id  = "schedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.function["metrics"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.metrics.arn
}
