import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { InfraConfigError, loadInfraConfig } from './config.ts';
import { IcloudS3Stack } from './icloud-s3-stack.ts';

/**
 * `cdk synth` / `cdk deploy` entry (cdk.json: `node --import tsx infra/app.ts`). Settings come from
 * `ICLOUD_S3_*` environment variables or `icloudS3:*` context and are validated before anything
 * is built; cdk-nag's AwsSolutions rules run on every synth and fail it on an unacknowledged finding.
 */
const app = new App();
try {
  const config = loadInfraConfig((key) => app.node.tryGetContext(key), process.env);
  new IcloudS3Stack(app, config.stackName, {
    config,
    description: 'icloud-s3: archives an iCloud Photos library into this account S3 bucket',
  });
} catch (error) {
  if (!(error instanceof InfraConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
