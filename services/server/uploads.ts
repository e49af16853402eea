/**
 * A session's uploads into the library, the protocol side: UPLOAD is checked and answered READY,
 * DATA goes to the upload's UploadWriter (upload-file.ts: the file side) with the client's socket paused
 * while the disk is behind, STREAM_END publishes the song and answers UPLOAD_DONE. A failure
 * answers the coded error and removes the temporary file.
 */
import { AudioLabError, toAudioLabError } from '../protocol/errors.ts';
import type { MessageOf } from '../protocol/index.ts';
import { checkSongName } from './names.ts';
import { describeSong } from './catalog.ts';
import { UploadWriter } from './upload-file.ts';
import { publicMessage, SHA256_RE, type Session } from './session.ts';

export interface Upload {
  req: number;
  writer: UploadWriter;
  startedAt: number;
  waitingDrain: boolean;
}

export async function startUpload(s: Session, msg: MessageOf<'UPLOAD'>): Promise<void> {
  let name: string;
  try {
    name = checkSongName(msg.name);
  } catch (err) {
    return s.reject(msg.req, toAudioLabError(err).code, toAudioLabError(err).message);
  }
  const max = s.server.config.maxUploadBytes;
  if (msg.size > max) return s.reject(msg.req, 'AUDIOLAB_ERR_TOO_LARGE', `${mib(msg.size)} is more than this server's upload limit of ${mib(max)} (the server's --max-upload raises it)`);
  if (msg.size < 44) return s.reject(msg.req, 'AUDIOLAB_ERR_BAD_FORMAT', 'Too small to be a WAV file');
  if (!SHA256_RE.test(msg.sha256)) return s.reject(msg.req, 'AUDIOLAB_ERR_BAD_PAYLOAD', 'sha256 must be 64 lowercase hex digits');
  if (s.checkBusy(msg.req)) return;
  const writer = await UploadWriter.create({ dir: s.server.config.musicDir, name, size: msg.size, sha256: msg.sha256 });
  const streamId = s.server.allocateStreamId();
  if (s.conn.isClosed) {
    await writer.abort();
    return;
  }
  s.uploads.set(streamId, { req: msg.req, writer, startedAt: performance.now(), waitingDrain: false });
  s.log.info('upload.start', { streamId, song: name, size: msg.size });
  s.conn.send({ type: 'READY', req: msg.req, streamId });
}

/** Takes one DATA frame of an upload; a broken rule fails the upload. */
export function uploadData(s: Session, streamId: number, up: Upload, msg: MessageOf<'DATA'>): void {
  try {
    if (!up.writer.write(msg.offset, msg.data) && !up.waitingDrain) {
      up.waitingDrain = true;
      s.pause();
      void up.writer.drained().finally(() => {
        if (!up.waitingDrain) return; // already released (upload ended or failed)
        up.waitingDrain = false;
        s.resume();
      });
    }
  } catch (err) {
    void failUpload(s, streamId, up, toAudioLabError(err));
  }
}

export async function failUpload(s: Session, streamId: number, up: Upload, err: AudioLabError): Promise<void> {
  s.uploads.delete(streamId);
  s.deadStreams.add(streamId);
  if (up.waitingDrain) {
    up.waitingDrain = false;
    s.resume();
  }
  await up.writer.abort();
  s.log.warn('upload.fail', { streamId, song: up.writer.spec.name, code: err.code, error: err.message, received: up.writer.received });
  s.conn.sendError(err.code, publicMessage(err), { req: up.req, streamId });
}

/** STREAM_END of an upload: verified, published into the library, answered UPLOAD_DONE. */
export async function endUpload(s: Session, streamId: number, up: Upload): Promise<void> {
  s.uploads.delete(streamId);
  // The last chunks may have paused this socket for the disk: the upload is complete, read on.
  if (up.waitingDrain) {
    up.waitingDrain = false;
    s.resume();
  }
  try {
    const { path, name } = await up.writer.finish((n) => s.server.catalog.has(n));
    const entry = await describeSong(path, name);
    const ms = performance.now() - up.startedAt;
    s.log.info('upload.done', { streamId, song: name, bytes: entry.info.size, ms: Math.round(ms) });
    s.conn.send({ type: 'UPLOAD_DONE', req: up.req, name, sha256: entry.info.sha256, song: entry.info });
    s.server.catalog.add(entry, 'upload');
  } catch (err) {
    s.uploads.set(streamId, up);
    await failUpload(s, streamId, up, toAudioLabError(err));
  }
}

const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(n < 1024 * 1024 ? 2 : 1)} MiB`;
