# Two availability zones: media nodes in the public subnets (their public addresses are the ICE
# candidates clients reach), functions and Redis in the private ones, which leave through NAT for
# SQS, Secrets Manager and the WebSocket API's @connections endpoint, and reach DynamoDB through a
# gateway endpoint.
resource "aws_vpc" "main" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
}

resource "aws_subnet" "public" {
  count                   = 2
  vpc_id                  = aws_vpc.main.id
  availability_zone       = local.azs[count.index]
  cidr_block              = cidrsubnet(var.vpc_cidr, 6, count.index)
  map_public_ip_on_launch = true
  tags                    = { Name = "${var.name}-public-${count.index}" }
}

resource "aws_subnet" "private" {
  count             = 2
  vpc_id            = aws_vpc.main.id
  availability_zone = local.azs[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 6, count.index + 2)
  tags              = { Name = "${var.name}-private-${count.index}" }
}

resource "aws_eip" "nat" {
  domain = "vpc"
}

resource "aws_nat_gateway" "main" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public[0].id
  depends_on    = [aws_internet_gateway.main]
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main.id
  }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.main.id
  }
}

resource "aws_route_table_association" "public" {
  count          = 2
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table_association" "private" {
  count          = 2
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

resource "aws_vpc_endpoint" "dynamodb" {
  vpc_id            = aws_vpc.main.id
  service_name      = "com.amazonaws.${var.region}.dynamodb"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
}

resource "aws_security_group" "functions" {
  name_prefix = "${var.name}-functions-"
  description = "Tessera functions"
  vpc_id      = aws_vpc.main.id
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "media_nodes" {
  name_prefix = "${var.name}-media-nodes-"
  description = "Tessera media nodes: WebRTC from anywhere, pipes between nodes"
  vpc_id      = aws_vpc.main.id
  ingress {
    description = "WebRTC media (UDP)"
    protocol    = "udp"
    from_port   = var.rtc_port
    to_port     = local.rtc_port_last
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    description = "WebRTC media (TCP fallback)"
    protocol    = "tcp"
    from_port   = var.rtc_port
    to_port     = local.rtc_port_last
    cidr_blocks = ["0.0.0.0/0"]
  }
  # coturn beside each node: TURN over UDP, TCP and TLS, and the ports it relays from (TURN in
  # infra/deployment.ts).
  ingress {
    description = "TURN (UDP)"
    protocol    = "udp"
    from_port   = 3478
    to_port     = 3478
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    description = "TURN (TCP)"
    protocol    = "tcp"
    from_port   = 3478
    to_port     = 3478
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    description = "TURN (TLS)"
    protocol    = "tcp"
    from_port   = 5349
    to_port     = 5349
    cidr_blocks = ["0.0.0.0/0"]
  }
  # The RTMP push ingest of each node (RTMP_INGEST_PORT in infra/deployment.ts).
  ingress {
    description = "RTMP push ingest (encoders)"
    protocol    = "tcp"
    from_port   = 1935
    to_port     = 1935
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    description = "TURN relay ports"
    protocol    = "udp"
    from_port   = 60000
    to_port     = 64999
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    description = "pipe transports between media nodes (mediasoup's default RTC range)"
    protocol    = "udp"
    from_port   = 10000
    to_port     = 59999
    self        = true
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "redis" {
  name_prefix = "${var.name}-redis-"
  description = "Tessera live state: Redis from functions and media nodes"
  vpc_id      = aws_vpc.main.id
  ingress {
    description     = "Redis (TLS)"
    protocol        = "tcp"
    from_port       = 6379
    to_port         = 6379
    security_groups = [aws_security_group.functions.id, aws_security_group.media_nodes.id]
  }
}
