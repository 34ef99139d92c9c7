import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';

/** The variables a deployment keeps in Secrets Manager rather than in a function's or node's environment. */
export const SECRET_VARIABLES = ['TOKEN_SECRET', 'MASTER_KEY', 'SUPER_SERVICE_KEY', 'TURN_SECRET'] as const;

const SecretValue = z.string().min(16, 'a secret must be at least 16 characters').max(4096);

/** Reads one secret's string; the default reads Secrets Manager (endpoint from the AWS_ENDPOINT_URL_* variables). */
export type SecretReader = (secretId: string) => Promise<string | undefined>;

export function secretsManagerReader(client = new SecretsManagerClient({})): SecretReader {
  return async (SecretId) => (await client.send(new GetSecretValueCommand({ SecretId }))).SecretString;
}

/**
 * Fills TOKEN_SECRET, MASTER_KEY, SUPER_SERVICE_KEY and TURN_SECRET from Secrets Manager where the environment
 * names a secret (`<NAME>_ARN`) instead of the value, so no secret sits in a Lambda's configuration.
 * A value set directly wins. Runs once per cold start, before `loadConfig`.
 */
export async function resolveSecrets(
  env: NodeJS.ProcessEnv,
  read: SecretReader = secretsManagerReader(),
): Promise<NodeJS.ProcessEnv> {
  const resolved = { ...env };
  for (const name of SECRET_VARIABLES) {
    const arn = env[`${name}_ARN`];
    if (env[name] || !arn) continue;
    let value: string | undefined;
    try {
      value = await read(arn);
    } catch (error) {
      throw new ConfigError(`${name}_ARN: the secret could not be read`, { cause: (error as Error).name });
    }
    const parsed = SecretValue.safeParse(value);
    if (!parsed.success) throw new ConfigError(`${name}_ARN: ${parsed.error.issues[0]!.message}`);
    resolved[name] = parsed.data;
  }
  return resolved;
}
