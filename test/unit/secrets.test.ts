import { describe, expect, it } from 'vitest';
import { resolveSecrets } from '../../shared/config/secrets.ts';
import { ConfigError } from '../../shared/errors.ts';

const store: Record<string, string> = {
  'arn:token': 't'.repeat(40),
  'arn:master': 'm'.repeat(40),
  'arn:short': 'tiny',
};
const read = async (id: string) => {
  if (!(id in store))
    throw Object.assign(new Error(`secret ${id} not found`), { name: 'ResourceNotFoundException' });
  return store[id];
};

describe('resolveSecrets', () => {
  it('fills each <NAME> from the secret its <NAME>_ARN names', async () => {
    const env = await resolveSecrets(
      { TOKEN_SECRET_ARN: 'arn:token', MASTER_KEY_ARN: 'arn:master', OTHER: 'x' },
      read,
    );
    expect(env).toMatchObject({
      TOKEN_SECRET: store['arn:token'],
      MASTER_KEY: store['arn:master'],
      OTHER: 'x',
    });
    expect(env.SUPER_SERVICE_KEY).toBeUndefined();
  });

  it('keeps a value set directly and reads nothing for it', async () => {
    const env = await resolveSecrets(
      { TOKEN_SECRET: 'direct-value-0123456789', TOKEN_SECRET_ARN: 'arn:missing' },
      read,
    );
    expect(env.TOKEN_SECRET).toBe('direct-value-0123456789');
  });

  it('refuses a short secret and an unreadable one with a config error that never shows a value', async () => {
    const short = resolveSecrets({ MASTER_KEY_ARN: 'arn:short' }, read);
    await expect(short).rejects.toBeInstanceOf(ConfigError);
    await expect(short).rejects.toThrow(/MASTER_KEY_ARN: a secret must be at least 16 characters/);
    await expect(short).rejects.not.toThrow(/tiny/);
    const missing = resolveSecrets({ SUPER_SERVICE_KEY_ARN: 'arn:missing' }, read);
    await expect(missing).rejects.toMatchObject({
      message: 'SUPER_SERVICE_KEY_ARN: the secret could not be read',
    });
  });
});
