# The single table of shared/adapters/dynamodb/table.ts (tableDefinition), with TTL and
# point-in-time recovery.
resource "aws_dynamodb_table" "state" {
  name         = "${var.name}-state"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  attribute {
    name = "gsi1pk"
    type = "S"
  }
  attribute {
    name = "gsi1sk"
    type = "S"
  }

  global_secondary_index {
    name            = "gsi1"
    hash_key        = "gsi1pk"
    range_key       = "gsi1sk"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  lifecycle {
    prevent_destroy = true
  }
}

# RECORDINGS_BUCKET: the media nodes upload recordings here (S3BlobStore). Private, S3-managed
# encryption, TLS only, and kept like the table: recordings are users' data.
resource "aws_s3_bucket" "recordings" {
  bucket_prefix = local.recordings_prefix
  force_destroy = false

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_public_access_block" "recordings" {
  bucket                  = aws_s3_bucket.recordings.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "recordings" {
  bucket = aws_s3_bucket.recordings.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

data "aws_iam_policy_document" "recordings_tls_only" {
  statement {
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.recordings.arn, "${aws_s3_bucket.recordings.arn}/*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "recordings" {
  bucket = aws_s3_bucket.recordings.id
  policy = data.aws_iam_policy_document.recordings_tls_only.json
  # One setting at a time: S3 can refuse concurrent changes to a bucket (OperationAborted).
  depends_on = [aws_s3_bucket_public_access_block.recordings]
}

# Live state: two nodes across zones with automatic failover, encrypted in transit and at rest.
resource "aws_elasticache_subnet_group" "live" {
  name       = "${var.name}-live"
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_elasticache_replication_group" "live" {
  replication_group_id       = "${var.name}-live"
  description                = "${var.name} live state"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.redis_node_type
  num_cache_clusters         = 2
  automatic_failover_enabled = true
  multi_az_enabled           = true
  transit_encryption_enabled = true
  at_rest_encryption_enabled = true
  subnet_group_name          = aws_elasticache_subnet_group.live.name
  security_group_ids         = [aws_security_group.redis.id]
}

# TOKEN_SECRET, MASTER_KEY, SUPER_SERVICE_KEY: the functions read them at cold start (<NAME>_ARN).
resource "random_password" "deployment" {
  for_each = toset(["TOKEN_SECRET", "MASTER_KEY", "SUPER_SERVICE_KEY"])
  length   = 48
  special  = false
}

resource "aws_secretsmanager_secret" "deployment" {
  for_each    = random_password.deployment
  name_prefix = "${var.name}-${lower(replace(each.key, "_", "-"))}-"
  description = "Tessera ${each.key}"
}

resource "aws_secretsmanager_secret_version" "deployment" {
  for_each      = random_password.deployment
  secret_id     = aws_secretsmanager_secret.deployment[each.key].id
  secret_string = each.value.result
}

# TURN_SECRET: shared by the media nodes and the coturn beside each; the functions never see it.
resource "random_password" "turn" {
  length  = 48
  special = false
}

resource "aws_secretsmanager_secret" "turn" {
  name_prefix = "${var.name}-turn-secret-"
  description = "Tessera TURN_SECRET (coturn static-auth-secret)"
}

resource "aws_secretsmanager_secret_version" "turn" {
  secret_id     = aws_secretsmanager_secret.turn.id
  secret_string = random_password.turn.result
}

# The nodes' command queues come and go with the nodes (each creates <name>-node-<id>); what
# they share, and what is alarmed on, is the dead-letter queue.
resource "aws_sqs_queue" "dead_letter" {
  name                      = local.dead_letter_name
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

# Events from the media nodes to the webhook function (SqsEventSink); an event undeliverable
# after every retry (infra/deployment.ts WEBHOOK_MAX_RECEIVES) is kept in its dead-letter queue.
resource "aws_sqs_queue" "events_dead_letter" {
  name                      = local.events_dlq_name
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "events" {
  name                       = local.events_queue_name
  visibility_timeout_seconds = 180
  message_retention_seconds  = 345600
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.events_dead_letter.arn
    maxReceiveCount     = 20
  })
}
