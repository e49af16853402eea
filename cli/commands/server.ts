import { existsSync } from 'node:fs';
import { AudioLabServer } from '../../services/server/server.ts';
import { createLogger, type LogLevel } from '../../services/common/log.ts';
import { DEFAULT_PORT } from '../../services/protocol/index.ts';
import { int, str, type Command } from '../command.ts';

export const serverCommand: Command = {
  name: 'server',
  details: 'Logs one JSON object per line on stderr (connections, streams, errors). Stops gracefully on Ctrl-C (exit 130) or SIGTERM (exit 0).',
  options: {
    port: { type: 'string', short: 'p', help: 'TCP port', placeholder: 'PORT', default: String(DEFAULT_PORT) },
    host: { type: 'string', help: 'Address to listen on', placeholder: 'IP', default: '0.0.0.0' },
    music: { type: 'string', short: 'm', help: 'Music folder (uploads are stored here)', placeholder: 'DIR', default: 'music' },
    'max-clients': { type: 'string', help: 'Maximum clients at once', placeholder: 'N', default: '256' },
    'idle-timeout': { type: 'string', help: 'Close connections that send no whole message for this many seconds', placeholder: 'S', default: '120' },
    'hello-timeout': { type: 'string', help: 'Close connections that send no HELLO within this many seconds of connecting', placeholder: 'S', default: '10' },
    'stall-timeout': { type: 'string', help: 'Abort a stream whose receiver takes nothing for this many seconds (its sender is told)', placeholder: 'S', default: '30' },
    'max-queued': { type: 'string', help: 'Drop a client that leaves more than this many MiB of output unread', placeholder: 'MIB', default: '8' },
    'max-upload': { type: 'string', help: 'Upload size limit in MiB', placeholder: 'MIB', default: '64' },
    'log-level': { type: 'string', help: 'debug | info | warn | error | silent', placeholder: 'LEVEL', default: 'info' },
    'stop-file': { type: 'string', help: 'Stop gracefully once this file exists (the lab stops the server when the capture is done)', placeholder: 'FILE' },
  },
  examples: ['audiolab server --port 5050 --music music/'],
  async run(ctx) {
    const server = new AudioLabServer({
      port: int(ctx, 'port', DEFAULT_PORT),
      host: str(ctx, 'host') ?? '0.0.0.0',
      musicDir: str(ctx, 'music') ?? 'music',
      maxClients: int(ctx, 'max-clients', 256),
      idleTimeoutMs: int(ctx, 'idle-timeout', 120) * 1000,
      helloTimeoutMs: int(ctx, 'hello-timeout', 10) * 1000,
      streamStallMs: int(ctx, 'stall-timeout', 30) * 1000,
      maxQueuedBytes: int(ctx, 'max-queued', 8) * 1024 * 1024,
      maxUploadBytes: int(ctx, 'max-upload', 64) * 1024 * 1024,
      logger: createLogger({ level: (str(ctx, 'log-level') ?? 'info') as LogLevel }),
    });
    await server.listen();
    await new Promise<void>((resolve) => {
      // Ctrl-C (exit 130) or SIGTERM (exit 0, how containers are stopped): a graceful stop either way
      const stop = (): void => {
        ctx.signal.removeEventListener('abort', stop);
        process.off('SIGTERM', stop);
        void server.close().then(resolve);
      };
      ctx.signal.addEventListener('abort', stop);
      process.on('SIGTERM', stop);
      const stopFile = str(ctx, 'stop-file');
      if (stopFile) {
        const timer = setInterval(() => {
          if (existsSync(stopFile)) {
            clearInterval(timer);
            stop();
          }
        }, 250);
      }
    });
    return 0;
  },
};
