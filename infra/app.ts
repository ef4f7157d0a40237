import { buildApp } from '#infra/synth.ts';

// `cdk synth` / `cdk deploy`: the Elevate stack with the cdk-nag AwsSolutions checks (a finding fails synth).
const { app } = buildApp();
app.synth();
