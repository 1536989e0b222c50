// The remote pipelines: a stand-in for AWS Data Pipeline's ActivatePipeline on 127.0.0.1. cascade's
// run.http jobs POST it the request the original system's function sent (pipelineId and
// parameterValues myYear/myMonth/myDay); it answers at once, as AWS does, and a moment later "the
// pipeline finishes": it writes the job's marker into the bucket and the bucket's notification
// reaches cascade through SNS (bucket.mjs). Node's own modules only; nothing received ever reaches
// a shell or a file name unchecked.
//   node receiver.mjs PORT_FILE
// listens on 127.0.0.1, on an ephemeral port written to PORT_FILE; every activation it takes is
// a line `activated JOB PARTITION MILLISECONDS` in the timeline (bucket.mjs).
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { finish, log, record } from './bucket.mjs';

// pipelineId -> the job whose marker it writes, and how long it "runs" (payments takes longest,
// so revenue is seen waiting for its second input).
const PIPELINES = new Map([
  ['df-sessions', { job: 'sessions', ms: 300 }],
  ['df-payments', { job: 'payments', ms: 800 }],
  ['df-revenue', { job: 'revenue', ms: 400 }],
  ['df-bi-import', { job: 'bi_import', ms: 300 }],
]);
const MAX_BODY = 16 * 1024;
const activated = new Set();

class Refusal extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Refusal(413, 'ValidationException', `the body is over ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The pipeline and its day from an ActivatePipeline request, or a Refusal saying what is wrong. */
function parseActivation(req, text) {
  const bad = (message) => new Refusal(400, 'InvalidRequestException', message);
  if (req.headers['x-amz-target'] !== 'DataPipeline.ActivatePipeline') {
    throw bad('X-Amz-Target must be DataPipeline.ActivatePipeline');
  }
  if (!(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) {
    throw bad('Content-Type must be application/x-amz-json-1.1');
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw bad('the body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw bad('the body must be a JSON object');
  }
  for (const name of Object.keys(body)) {
    if (name !== 'pipelineId' && name !== 'parameterValues') {
      throw bad(`unknown field ${JSON.stringify(name).slice(0, 60)}`);
    }
  }
  const pipeline = typeof body.pipelineId === 'string' ? PIPELINES.get(body.pipelineId) : undefined;
  if (!pipeline) {
    throw new Refusal(400, 'PipelineNotFoundException', 'pipelineId names no pipeline here');
  }
  if (!Array.isArray(body.parameterValues) || body.parameterValues.length > 10) {
    throw bad('parameterValues must be a list of { id, stringValue }');
  }
  const values = new Map();
  for (const p of body.parameterValues) {
    if (typeof p !== 'object' || p === null || Object.keys(p).length !== 2
        || typeof p.id !== 'string' || typeof p.stringValue !== 'string') {
      throw bad('each parameterValues entry must be exactly { id, stringValue }, both strings');
    }
    if (values.has(p.id)) {
      throw bad(`parameter ${JSON.stringify(p.id).slice(0, 60)} is given twice`);
    }
    values.set(p.id, p.stringValue);
  }
  const [year, month, day] = ['myYear', 'myMonth', 'myDay'].map((id) => values.get(id));
  if (values.size !== 3 || !/^[0-9]{4}$/.test(year ?? '') || !/^[0-9]{2}$/.test(month ?? '') || !/^[0-9]{2}$/.test(day ?? '')) {
    throw bad('parameterValues must be exactly myYear (4 digits), myMonth and myDay (2 digits)');
  }
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (date.getUTCFullYear() !== Number(year) || date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day)) {
    throw bad(`${year}-${month}-${day} is not a date`);
  }
  return { id: body.pipelineId, ...pipeline, partition: `${year}${month}${day}` };
}

const server = createServer(async (req, res) => {
  try {
    if (req.url !== '/') {
      throw new Refusal(404, 'UnknownOperationException', 'only POST / is served');
    }
    if (req.method !== 'POST') {
      throw new Refusal(405, 'UnknownOperationException', 'only POST / is served');
    }
    const a = parseActivation(req, await readBody(req));
    const run = `${a.job}__${a.partition}`;
    if (activated.has(run)) {
      // Data Pipeline would cancel the running pipeline and start again: an activation twice is a bug here.
      log(`receiver: ActivatePipeline ${a.id} ${a.partition} AGAIN: refused`);
      throw new Refusal(400, 'InvalidRequestException', `${a.id} was activated for ${a.partition} already`);
    }
    activated.add(run);
    record('activated', a.job, a.partition);
    const at = new Date().toISOString();
    reply(res, 200, {});
    log(`receiver: ActivatePipeline ${a.id} for ${a.partition}: activated; its marker in ${a.ms} ms`);
    setTimeout(() => {
      finish(a.job, a.partition, { pipeline: a.id, activated_at: at, finished_at: new Date().toISOString() })
        .catch((e) => log(`receiver: ${a.id} ${a.partition}: the marker or its notification failed: ${e.message}`));
    }, a.ms);
  } catch (e) {
    if (e instanceof Refusal) {
      log(`receiver: refused ${req.method} ${req.url?.slice(0, 80)}: ${e.status} ${e.message}`);
      if (!res.headersSent) {
        reply(res, e.status, { __type: e.type, message: e.message });
      }
    } else {
      log(`receiver: ${e.message}`);
      if (!res.headersSent) {
        reply(res, 500, { __type: 'InternalServiceError', message: 'the receiver failed' });
      }
    }
  }
});

const portFile = process.argv[2];
if (!portFile) {
  process.stderr.write('usage: node receiver.mjs PORT_FILE\n');
  process.exit(2);
}
server.listen(0, '127.0.0.1', () => {
  writeFileSync(portFile, `${server.address().port}\n`);
  log(`receiver: Data Pipeline stand-in on http://127.0.0.1:${server.address().port}/`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)).closeAllConnections());
}
