// `cdk synth` / `cdk deploy` run this (infra/cdk/cdk.json): bundles the functions, then builds the stack.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { bundleLambdas } from '../bundleLambdas.ts';
import { DeploymentSettingsSchema } from '../deployment.ts';
import { TesseraStack } from './TesseraStack.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const app = new App();
// Settings come from context (`cdk deploy -c name=prod -c maxMediaNodes=8`), validated.
const keys = Object.keys(DeploymentSettingsSchema.shape);
const settings = DeploymentSettingsSchema.parse(
  Object.fromEntries(keys.map((k) => [k, app.node.tryGetContext(k)]).filter(([, v]) => v !== undefined)),
);
const lambdaBundleDir = join(root, 'dist', 'lambda');
await bundleLambdas(lambdaBundleDir);
new TesseraStack(app, `${settings.name[0]!.toUpperCase()}${settings.name.slice(1)}`, {
  settings,
  lambdaBundleDir,
  releaseDir: root,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
app.synth();
