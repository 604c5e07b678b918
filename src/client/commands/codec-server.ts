/** `dedl-harvest codec-server`: decrypts payloads for the Temporal UI and `temporal --codec-endpoint`. */
import {
  DEFAULT_CODEC_HOST,
  DEFAULT_CODEC_PORT,
  DEFAULT_CORS_ORIGIN,
  startCodecServer,
} from '../../codec/codec-server';
import { PAYLOAD_KEYS_VARIABLE, payloadKeysFromEnv } from '../../codec/payload-keys';
import { type Command, type FlagValues, stringFlag } from '../command';
import { InvalidInputError } from '../errors';
import { line, printJson, untilStopped } from '../io';

/** The codec server's bearer token: an environment variable, so it is never in argv or shell history. */
export const CODEC_TOKEN_VARIABLE = 'DEDL_CODEC_TOKEN';
/** Shorter tokens are refused: the token is all that stands between the network and decryption. */
const MIN_TOKEN_LENGTH = 16;

export const codecServerCommand: Command = {
  name: 'codec-server',
  usage: 'codec-server [--port <n>] [--host <ip>] [--cors-origin <url>[,<url>…]] [--namespace <ns>[,<ns>…]]',
  summary: 'serve the payload codec (DEDL_PAYLOAD_KEYS) so the Temporal UI and CLI can read encrypted history',
  details: [
    `Keys come from ${PAYLOAD_KEYS_VARIABLE} (keyId:base64key[,…], as the worker's). Anyone who can reach the`,
    `server can decrypt: keep it on loopback, or set ${CODEC_TOKEN_VARIABLE} so every request needs that`,
    'bearer token — and reach it only through TLS (a reverse proxy): it speaks plain HTTP. Then:',
    '  temporal workflow show --workflow-id <id> --codec-endpoint http://127.0.0.1:8081 [--codec-auth "Bearer <token>"]',
    '  Temporal UI: Settings (the data encoder icon) → codec server http://127.0.0.1:8081',
  ].join('\n'),
  flags: {
    port: { type: 'string', value: '<n>', description: `TCP port (default ${DEFAULT_CODEC_PORT}; 0: any free port)` },
    host: { type: 'string', value: '<ip>', description: `interface to bind (default ${DEFAULT_CODEC_HOST})` },
    'cors-origin': {
      type: 'string',
      value: '<url>',
      description: `browser origins allowed, comma-separated, * for any (default ${DEFAULT_CORS_ORIGIN})`,
    },
    namespace: {
      type: 'string',
      value: '<ns>',
      description: 'serve only these namespaces (X-Namespace), comma-separated (default: any)',
    },
  },
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const settings = codecServerSettings(ctx.flags);
    const keys = payloadKeysFromEnv(ctx.io.env);
    if (!keys) {
      throw new InvalidInputError('the codec server needs keys', [
        `${PAYLOAD_KEYS_VARIABLE}: required (keyId:base64key[,keyId:base64key…], the worker's keys)`,
      ]);
    }
    const token = ctx.io.env[CODEC_TOKEN_VARIABLE];
    if (token !== undefined && (token.length < MIN_TOKEN_LENGTH || /\s/.test(token))) {
      throw new InvalidInputError('invalid codec-server token', [
        `${CODEC_TOKEN_VARIABLE}: must be at least ${MIN_TOKEN_LENGTH} characters without spaces (e.g. openssl rand -hex 32)`,
      ]);
    }
    const server = await startCodecServer({ keys, ...settings, ...(token ? { token } : {}) });
    try {
      if (ctx.json) {
        printJson(ctx.io.stdout, {
          url: server.url,
          keyIds: keys.keyIds,
          encryptKeyId: keys.encryptKeyId,
          tokenRequired: Boolean(token),
        });
      } else {
        const out = (text: string) => line(ctx.io.stdout, text);
        out(`Codec server at ${server.url} (key ids ${keys.keyIds.join(', ')}; new payloads use ${keys.encryptKeyId})`);
        const auth = token ? ` --codec-auth "Bearer $${CODEC_TOKEN_VARIABLE}"` : '';
        out(`  Temporal CLI: temporal workflow show --workflow-id <id> --codec-endpoint ${server.url}${auth}`);
        out(`  Temporal UI:  codec server ${server.url} (browser origins: ${settings.corsOrigins.join(', ')})`);
        out('Ctrl-C stops it.');
      }
      await untilStopped(ctx.io);
      return 0;
    } finally {
      await server.close();
    }
  },
};

interface CodecServerSettings {
  port: number;
  host: string;
  corsOrigins: string[];
  namespaces?: string[];
}

/** Flags → server settings; problems name the flag (exit 2). */
export function codecServerSettings(flags: FlagValues): CodecServerSettings {
  const problems: string[] = [];
  const list = (flag: string) =>
    stringFlag(flags, flag)
      ?.split(',')
      .map((item) => item.trim())
      .filter(Boolean);

  const portText = stringFlag(flags, 'port');
  const port = portText === undefined ? DEFAULT_CODEC_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push('--port: must be an integer from 0 to 65535');

  const corsOrigins = list('cors-origin') ?? [DEFAULT_CORS_ORIGIN];
  for (const origin of corsOrigins) {
    if (origin !== '*' && !isOrigin(origin)) {
      problems.push(`--cors-origin: "${origin}" is not an origin like http://localhost:8233 (scheme://host[:port])`);
    }
  }
  const namespaces = list('namespace');
  if (namespaces?.length === 0) problems.push('--namespace: give at least one namespace');
  if (problems.length > 0) throw new InvalidInputError('invalid codec-server options', problems);
  return {
    port,
    host: stringFlag(flags, 'host') ?? DEFAULT_CODEC_HOST,
    corsOrigins,
    ...(namespaces ? { namespaces } : {}),
  };
}

/** Browsers send `Origin` as scheme://host[:port] exactly, without a path or trailing slash. */
function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text;
  } catch {
    return false;
  }
}
