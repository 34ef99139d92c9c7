variable "name" {
  description = "Names every resource, the SQS queues (<name>-node-<id>, <name>-dead-letter) and the metrics dimension."
  type        = string
  default     = "tessera"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.name))
    error_message = "name: lowercase letters, digits and dashes, 2-20 characters, starting with a letter (IAM and S3 name prefixes allow 37)."
  }
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "vpc_cidr" {
  description = "Address range of the VPC (two public and two private /22 subnets are carved from it)."
  type        = string
  default     = "10.40.0.0/16"
}

variable "media_node_instance_type" {
  description = "EC2 instance type of the media nodes (one mediasoup worker per vCPU)."
  type        = string
  default     = "c7i.xlarge"
}

variable "min_media_nodes" {
  description = "Fewest media nodes."
  type        = number
  default     = 1
}

variable "max_media_nodes" {
  description = "Most media nodes."
  type        = number
  default     = 4
  validation {
    condition     = var.max_media_nodes >= 1 && var.max_media_nodes <= 500
    error_message = "max_media_nodes: 1 to 500."
  }
}

variable "rtc_port" {
  description = "First WebRTC port: worker i of a node listens on rtc_port + i (UDP and TCP)."
  type        = number
  default     = 40000
  validation {
    condition     = var.rtc_port >= 1024 && var.rtc_port <= 65000
    error_message = "rtc_port: 1024 to 65000."
  }
}

variable "max_workers_per_node" {
  description = "WebRTC ports opened per node: at least the vCPUs of the largest instance type used."
  type        = number
  default     = 16
}

variable "target_load" {
  description = "Mean load of the media nodes taking rooms that scaling keeps the group at (0.1-0.85)."
  type        = number
  default     = 0.6
}

variable "drain_timeout_seconds" {
  description = "How long a media node being scaled in keeps its rooms before they move."
  type        = number
  default     = 600
}

variable "redis_node_type" {
  description = "ElastiCache node type of the live state."
  type        = string
  default     = "cache.t4g.small"
}

variable "alarm_email" {
  description = "Where alarms are mailed (empty: subscribe to the topic yourself)."
  type        = string
  default     = ""
}

variable "lambda_bundle_dir" {
  description = "Output of `npm run bundle:lambdas`: one directory per function holding index.mjs (default: the repository's dist/lambda)."
  type        = string
  default     = ""
}

variable "release_archive" {
  description = "The media nodes' release, `git archive -o dist/release.zip HEAD` (default: the repository's dist/release.zip)."
  type        = string
  default     = ""
}
