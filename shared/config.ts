/** Settings from the environment, read once per process. */
export interface Config {
  tableName: string;
  bootstrapAdmins: string[];
  /** How long an Idempotency-Key is remembered. */
  idempotencyTtlHours: number;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
}

export const parseList = (text: string | undefined): string[] =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new Error('TABLE_NAME is not set: the function needs the name of its DynamoDB table');
  return {
    tableName,
    bootstrapAdmins: parseList(env.ELEVATE_BOOTSTRAP_ADMINS),
    idempotencyTtlHours: 24,
    maxBodyBytes: 64 * 1024,
  };
}
