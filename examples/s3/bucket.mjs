// The bucket and its notification path, as in AWS: writes a done marker into the bucket (s3rver on
// 127.0.0.1; a plain unsigned PUT) and then does what the bucket's notification -> SNS topic ->
// HTTPS subscription does: posts the S3 event, inside an SNS `Notification`, to cascade's
// POST /api/events/s3. Used by receiver.mjs (a remote pipeline finishing) and by run.sh (the
// external player_entry), as `node bucket.mjs JOB PARTITION`. Node's own modules only.
//
// Settings come from the environment run.sh sets: EXAMPLE_S3_URL, EXAMPLE_BUCKET, EXAMPLE_PREFIX,
// EXAMPLE_TOPIC_ARN, EXAMPLE_CASCADE_URL, CASCADE_API_TOKEN and EXAMPLE_TIMELINE (a file that
// gets a line `marker JOB PARTITION MILLISECONDS` for every marker written; report.mjs reads it).
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const JOB = /^[a-z0-9][a-z0-9_-]*$/;
const PARTITION = /^[0-9]{8}$/;
let sequence = 0;

function setting(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set (examples/s3/run.sh sets it)`);
  }
  return value;
}

/** Appends `what job partition now` (milliseconds since 1970) to the timeline. */
export function record(what, job, partition) {
  appendFileSync(setting('EXAMPLE_TIMELINE'), `${what} ${job} ${partition} ${Date.now()}\n`);
}

export function log(text) {
  const time = new Date().toISOString().slice(11, 23);
  process.stdout.write(`${time} ${text}\n`);
}

/** Writes JOB__PARTITION.done (its body: `meta`, JSON) and publishes its notification; returns the key. */
export async function finish(job, partition, meta) {
  if (!JOB.test(job) || job.includes('__') || !PARTITION.test(partition)) {
    throw new Error(`not a job and a daily partition: '${job}' '${partition}'`);
  }
  const bucket = setting('EXAMPLE_BUCKET');
  const key = `${setting('EXAMPLE_PREFIX')}${job}__${partition}.done`;
  const body = JSON.stringify(meta);
  const put = await fetch(`${setting('EXAMPLE_S3_URL')}/${bucket}/${key}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body,
  });
  if (!put.ok) {
    throw new Error(`PUT s3://${bucket}/${key} answered ${put.status}: ${(await put.text()).slice(0, 200)}`);
  }
  record('marker', job, partition);
  const etag = (put.headers.get('etag') ?? '').replaceAll('"', '');
  await publish(bucket, key, Buffer.byteLength(body), etag);
  return key;
}

// What SNS posts to an HTTPS subscription (https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html),
// its Message being the bucket's S3 event. It is not signed: the example's pipeline says
// events.sns.verify_signatures: false, so cascade asks for the API token instead.
async function publish(bucket, key, size, etag) {
  const now = new Date().toISOString();
  const topic = setting('EXAMPLE_TOPIC_ARN');
  // S3's sequencer grows with every write of a key; cascade de-duplicates deliveries by it.
  const sequencer = (BigInt(Date.now()) * 1000n + BigInt(sequence++ % 1000)).toString(16).toUpperCase().padStart(16, '0');
  const event = {
    Records: [{
      eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-east-1', eventTime: now,
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0', configurationId: 'cascade-markers',
        bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
        object: { key, size, eTag: etag, sequencer },
      },
    }],
  };
  const envelope = {
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: topic,
    Subject: 'Amazon S3 Notification',
    Message: JSON.stringify(event),
    Timestamp: now,
    SignatureVersion: '1',
    Signature: 'not-signed-local-example',
    SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-example.pem',
  };
  const answer = await fetch(`${setting('EXAMPLE_CASCADE_URL')}/api/events/s3`, {
    method: 'POST',
    headers: {
      'content-type': 'text/plain; charset=UTF-8', // as SNS sends it
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-topic-arn': topic,
      authorization: `Bearer ${setting('CASCADE_API_TOKEN')}`,
    },
    body: JSON.stringify(envelope),
  });
  const text = await answer.text();
  if (answer.status !== 202) {
    throw new Error(`POST /api/events/s3 for ${key} answered ${answer.status}: ${text.slice(0, 300)}`);
  }
  log(`sns: s3://${bucket}/${key} notified -> cascade queued ${JSON.parse(text).queued}`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [job, partition] = process.argv.slice(2);
  try {
    await finish(job ?? '', partition ?? '', { source: 'run.sh', note: 'an external job: its producer wrote this' });
  } catch (e) {
    process.stderr.write(`bucket.mjs: ${e.message}\n`);
    process.exit(1);
  }
}
