/**
 * `npm start`: the local runtime on 127.0.0.1:$PORT (default 3000), data in $ELEVATE_DATA_DIR (default
 * .elevate-data/, ':memory:' keeps nothing), bootstrap admins from $ELEVATE_BOOTSTRAP_ADMINS (default admin),
 * a manual clock when ELEVATE_CLOCK=manual. DynamoDB: $AWS_ENDPOINT_URL_DYNAMODB if set, else DynamoDB Local.
 */
import { JavaMissingError } from './dynamodb.ts';
import { type LocalServer, startLocal } from './server.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const rawPort = process.env.PORT ?? '3000';
const port = Number(rawPort);
const dataDir = process.env.ELEVATE_DATA_DIR || '.elevate-data';
const admins = (process.env.ELEVATE_BOOTSTRAP_ADMINS ?? 'admin')
  .split(',')
  .map((id) => id.trim())
  .filter((id) => id !== '');
const manual = process.env.ELEVATE_CLOCK === 'manual';

function fail(message: string): never {
  console.error(`elevate: ${message}`);
  process.exit(1);
}

if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT=${rawPort} is not a port number`);

let server: LocalServer;
try {
  server = await startLocal({
    port,
    dataDir,
    bootstrapAdmins: admins,
    clock: manual ? 'manual' : 'system',
    log: true,
    ...(process.env.ELEVATE_LOCAL_SLACK === '1' && { slack: true }),
    ...(process.env.AWS_ENDPOINT_URL_DYNAMODB && { dynamoEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB }),
  });
} catch (error) {
  if (error instanceof JavaMissingError) fail(error.message);
  if ((error as { code?: unknown }).code === 'EADDRINUSE') {
    fail(`port ${port} is already in use (is Elevate already running?); set PORT to another port`);
  }
  fail(error instanceof Error ? error.message : String(error));
}

const { url } = server;
const first = admins[0] ?? 'admin';
console.log(`Elevate local runtime listening on ${url}`);
console.log(`  data:      ${dataDir === ':memory:' ? 'in memory (nothing is kept)' : dataDir}`);
console.log(`  dynamodb:  ${server.dynamoEndpoint} (table ${server.tableName})`);
console.log(
  `  clock:     ${manual ? `manual (now ${server.clock.now().toISOString()}; POST ${url}/_local/clock)` : 'system'}`,
);
console.log(`  bootstrap admin(s): ${admins.join(', ') || '(none)'}`);
console.log(`  workflow:  ${server.stateMachineArn} (Step Functions API on ${url})`);
console.log(`  mail:      GET ${url}/_local/emails   events: GET ${url}/_local/events`);
if (server.identityCenter) {
  console.log(
    `  identity center: stand-in on ${url} (instance ${process.env.ELEVATE_IDC_INSTANCE_ARN}, identity store ${process.env.ELEVATE_IDENTITY_STORE_ID}, latency ${process.env.ELEVATE_LOCAL_IDC_LATENCY || 'PT2S'})`,
  );
  console.log(
    `                   GET ${url}/_local/identity-center   faults: POST ${url}/_local/identity-center/faults`,
  );
  console.log('                   accounts 111111111111, 222222222222 (ou-local-prod), 333333333333 (ou-local-dev)');
  console.log('                   permission sets arn:aws:sso:::permissionSet/ssoins-local/ps-admin, …/ps-readonly');
} else {
  console.log(
    `  identity center: ${process.env.AWS_ENDPOINT_URL_SSO_ADMIN ?? '(AWS)'} (instance ${process.env.ELEVATE_IDC_INSTANCE_ARN ?? 'unset'}, identity store ${process.env.ELEVATE_IDENTITY_STORE_ID ?? 'unset'})`,
  );
}
if (process.env.ELEVATE_SLACK_SIGNING_SECRET) {
  console.log(
    `  slack:     Web API ${process.env.ELEVATE_SLACK_API_URL}; messages: GET ${url}/_local/slack/messages; click: npm run slack:click -- --request <id> --user <U…> --action approve`,
  );
} else {
  console.log('  slack:     off (ELEVATE_LOCAL_SLACK=1, or ELEVATE_SLACK_SIGNING_SECRET and ELEVATE_SLACK_BOT_TOKEN)');
}
console.log('Get a token:');
if (dataDir === ':memory:') {
  console.log('  (the signing key is in memory, so `npm run token` cannot sign; use the HTTP control)');
} else {
  console.log(`  npm run --silent token -- --sub ${first} --mfa`);
}
console.log(
  `  curl -s -X POST ${url}/_local/token -H 'content-type: application/json' -d '{"sub":"${first}","mfa":true}'`,
);
console.log('Try:');
console.log(
  `  curl -s ${url}/v1/roles -H "authorization: Bearer $(curl -s -X POST ${url}/_local/token -H 'content-type: application/json' -d '{"sub":"${first}","mfa":true}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')"`,
);
console.log('Ctrl-C stops.');

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping Elevate (waiting for in-flight requests, then DynamoDB Local)…`);
  server.stop().then(
    () => {
      console.log('stopped cleanly.');
      process.exit(0);
    },
    (error: unknown) => {
      console.error('elevate: shutdown failed:', error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
