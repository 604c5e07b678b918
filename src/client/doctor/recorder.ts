/**
 * Records what the real services answered during `dedl-harvest doctor --capture`: an undici
 * interceptor around the Hook, STAC and login clients that keeps a copy of each response body
 * (bounded) as it streams past, without changing what the clients receive.
 */
import type { Dispatcher } from 'undici';

export interface RecordedExchange {
  method: string;
  url: string;
  /** The request body when it was a string (a form or JSON), to tell a token grant or a search apart. */
  requestBody?: string;
  status?: number;
  contentType?: string;
  body: string;
  /** The body was longer than the recorder keeps. */
  truncated: boolean;
}

/** Bytes of one body kept at most: a Workflows or STAC answer is far smaller. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export class ExchangeRecorder {
  readonly exchanges: RecordedExchange[] = [];

  interceptor(): Dispatcher.DispatcherComposeInterceptor {
    return (dispatch) => (opts, handler) => {
      const entry: RecordedExchange = {
        method: opts.method,
        url: new URL(opts.path, opts.origin).toString(),
        requestBody: typeof opts.body === 'string' ? opts.body : undefined,
        body: '',
        truncated: false,
      };
      const chunks: Buffer[] = [];
      let size = 0;
      return dispatch(opts, {
        onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
        onRequestUpgrade: (controller, status, headers, socket) =>
          handler.onRequestUpgrade?.(controller, status, headers, socket),
        onResponseStart: (controller, status, headers, message) => {
          entry.status = status;
          const type = headers['content-type'];
          entry.contentType = Array.isArray(type) ? type[0] : type;
          return handler.onResponseStart?.(controller, status, headers, message);
        },
        onResponseData: (controller, chunk) => {
          if (size + chunk.length <= MAX_BODY_BYTES) chunks.push(chunk);
          else entry.truncated = true;
          size += chunk.length;
          return handler.onResponseData?.(controller, chunk);
        },
        onResponseEnd: (controller, trailers) => {
          entry.body = Buffer.concat(chunks).toString('utf8');
          this.exchanges.push(entry);
          return handler.onResponseEnd?.(controller, trailers);
        },
        onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
      });
    };
  }
}
