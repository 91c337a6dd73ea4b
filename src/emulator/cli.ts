#!/usr/bin/env node
/** `sagemaker-emulator`: run the SageMaker Runtime emulator from the command line. */
import { readFileSync } from 'node:fs';
import { startEmulator } from './index';
import type { EmulatorHandle, EmulatorOptions } from './types';

const HELP = `Usage: sagemaker-emulator [options]

A local Amazon SageMaker Runtime (InvokeEndpoint, InvokeEndpointWithResponseStream,
InvokeEndpointAsync) with STS AssumeRole and an embedded S3, for tests and offline flows.

Options:
  --host <host>      address to listen on (default 127.0.0.1)
  --port <port>      port to listen on (default 9080; 0 picks a free port)
  --sqs-port <port>  port of the emulated SQS and SNS (default 0: a free port)
  --no-auth          accept requests without checking SigV4 signatures
  --config <file>    JSON file with emulator options (endpoints, faults, credentials, s3 ...)
  --seed <n>         seed of the fault-injection random generator (default 1)
  --verbose          log every request
  --help             show this help

Built-in endpoints: echo, sensor-anomaly, text-generator. Credentials: access key "test",
secret "test" (for the SageMaker endpoints and the embedded S3, bucket "sagemaker-emulator").

Example:
  sagemaker-emulator --port 9080
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws sagemaker-runtime invoke-endpoint \\
    --endpoint-url http://127.0.0.1:9080 --region us-east-1 --endpoint-name echo \\
    --body hello --cli-binary-format raw-in-base64-out out.txt
`;

function parseArgs(argv: string[]): EmulatorOptions | 'help' {
  let options: EmulatorOptions = {};
  const cli: EmulatorOptions = {};
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const take = (): string => (inline !== undefined ? inline : value(i++, flag));
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--host':
        cli.host = take();
        break;
      case '--port': {
        const v = take();
        const port = Number(v);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer 0-65535, got '${v}'`);
        cli.port = port;
        break;
      }
      case '--sqs-port': {
        const v = take();
        const port = Number(v);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--sqs-port must be an integer 0-65535, got '${v}'`);
        cli.sqsPort = port;
        break;
      }
      case '--no-auth':
        cli.auth = false;
        break;
      case '--seed': {
        const v = take();
        if (!Number.isFinite(Number(v))) throw new Error(`--seed must be a number, got '${v}'`);
        cli.seed = Number(v);
        break;
      }
      case '--verbose':
        cli.verbose = true;
        break;
      case '--config': {
        const file = take();
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (e) {
          throw new Error(`cannot read config file ${file}: ${(e as Error).message}`);
        }
        try {
          options = JSON.parse(text) as EmulatorOptions;
        } catch (e) {
          throw new Error(`config file ${file} is not valid JSON: ${(e as Error).message}`);
        }
        if (options === null || typeof options !== 'object' || Array.isArray(options))
          throw new Error(`config file ${file} must hold a JSON object`);
        break;
      }
      default:
        throw new Error(`unknown option '${arg}' (see --help)`);
    }
  }
  // Command-line flags win over the config file.
  return { ...options, ...cli };
}

async function main(): Promise<void> {
  // The SDK's Node 20 deprecation notice is about the emulator's own S3 client: noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let options: EmulatorOptions | 'help';
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`sagemaker-emulator: ${(e as Error).message}`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(HELP);
    return;
  }
  let emu: EmulatorHandle;
  try {
    emu = await startEmulator(options);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') {
      console.error(
        `sagemaker-emulator: port ${options.port ?? 9080} on ${options.host ?? '127.0.0.1'} is already in use; pick another with --port (0 = any free port)`,
      );
    } else {
      console.error(`sagemaker-emulator: could not start: ${err.message}`);
    }
    process.exit(1);
  }
  console.log(`SageMaker Runtime emulator listening on ${emu.url}`);
  console.log(`S3 listening on ${emu.s3Url}`);
  console.log(`SQS and SNS listening on ${emu.sqsUrl}`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    emu.close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
