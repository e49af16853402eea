/**
 * Relays (SEND_TO): a client streams its own file to another client through the server, which
 * stores nothing. The receiver is invited first; then every chunk from the source is checked
 * (stream-check.ts) and forwarded at once, and while the receiver's socket is full the source's
 * socket is not read, so the receiver's TCP window reaches the sender. Either end vanishing or a
 * broken rule aborts both sides with a coded error.
 */
import { AudioLabError, toAudioLabError } from '../protocol/errors.ts';
import type { AudioFormat, MessageOf } from '../protocol/index.ts';
import { StreamCheck } from '../common/stream-check.ts';
import { checkSongName } from './names.ts';
import { publicMessage, SHA256_RE, type Session } from './session.ts';

export interface Relay {
  req: number;
  idA: number;
  idB: number;
  source: Session;
  target: Session;
  name: string;
  size: number;
  sha256: string;
  format: AudioFormat;
  /** In order, within the size, hashed: the relay's stream into the server. */
  check: StreamCheck;
  seq: number;
  waitingDrain: boolean;
  startedAt: number;
}

export async function startRelay(s: Session, msg: MessageOf<'SEND_TO'>): Promise<void> {
  let name: string;
  try {
    name = checkSongName(msg.name);
  } catch (err) {
    return s.reject(msg.req, toAudioLabError(err).code, toAudioLabError(err).message);
  }
  if (!SHA256_RE.test(msg.sha256)) return s.reject(msg.req, 'AUDIOLAB_ERR_BAD_PAYLOAD', 'sha256 must be 64 lowercase hex digits');
  if (s.checkBusy(msg.req)) return;
  const target = s.findReceiver(msg.req, msg.target);
  if (!target) return;
  const idA = s.server.allocateStreamId();
  const idB = s.server.allocateStreamId();
  s.pendingOffers++;
  const answer = await target.invite({ streamId: idB, kind: 'relay', from: s.info.name, song: name, size: msg.size, sha256: msg.sha256, format: msg.format })
    .finally(() => { s.pendingOffers--; });
  if (s.answerToError(msg.req, target.info.name, answer)) return;
  if (s.conn.isClosed) {
    target.conn.send({ type: 'STREAM_ABORT', streamId: idB, code: 'AUDIOLAB_ERR_PEER_GONE', message: `${s.info.name} disconnected` });
    return;
  }
  const relay: Relay = {
    req: msg.req, idA, idB, source: s, target, name, size: msg.size, sha256: msg.sha256, format: msg.format,
    check: new StreamCheck(msg), seq: 0, waitingDrain: false, startedAt: performance.now(),
  };
  s.relaysOut.set(idA, relay);
  target.relaysIn.set(idB, relay);
  target.conn.send({ type: 'STREAM_START', streamId: idB, kind: 'relay', song: name, from: s.info.name, size: msg.size, offset: 0, sha256: msg.sha256, format: msg.format });
  s.log.info('relay.start', { idA, idB, target: target.info.name, song: name, size: msg.size });
  s.conn.send({ type: 'READY', req: msg.req, streamId: idA });
}

export function forwardRelay(s: Session, relay: Relay, msg: MessageOf<'DATA'>): void {
  try {
    relay.check.accept(msg.offset, msg.data);
  } catch (err) {
    return failRelay(s, relay, toAudioLabError(err));
  }
  // B's backpressure reaches A: while B's socket buffer is full, stop reading A's socket.
  if (!relay.target.conn.sendData(relay.idB, relay.seq++, msg.offset, msg.data) && !relay.waitingDrain) {
    relay.waitingDrain = true;
    s.pause();
    const stallMs = s.server.config.streamStallMs;
    void relay.target.conn.drainWithin(stallMs).then((drained) => {
      if (!relay.waitingDrain) return; // already released (the relay ended or failed)
      if (!drained) return failRelay(s, relay, new AudioLabError('AUDIOLAB_ERR_STALLED', `${relay.target.info.name} took nothing for ${stallMs} ms`));
      relay.waitingDrain = false;
      s.resume();
    });
  }
}

export function endRelay(s: Session, relay: Relay, msg: MessageOf<'STREAM_END'>): void {
  let digest: string;
  try {
    digest = relay.check.finish(msg.bytes, 'Relayed')!;
  } catch (err) {
    return failRelay(s, relay, toAudioLabError(err));
  }
  dropRelay(relay);
  relay.target.conn.send({ type: 'STREAM_END', streamId: relay.idB, bytes: relay.check.position, sha256: digest });
  s.log.info('relay.sent', { idA: relay.idA, idB: relay.idB, bytes: relay.check.position });
  // the sender hears OK only once the receiver confirms it has every byte (RECEIVED)
  void relay.target.delivered(relay.idB, relay.size, relay.format).then((failed) => {
    const ms = Math.round(performance.now() - relay.startedAt);
    if (failed) {
      s.log.warn('relay.fail', { idA: relay.idA, code: failed.code, error: failed.message, side: 'receipt' });
      s.conn.sendError(failed.code, failed.message, { req: relay.req, streamId: relay.idA });
      return;
    }
    s.conn.send({ type: 'OK', req: relay.req, streamId: relay.idA, bytes: relay.check.position, status: 'relayed' });
    s.log.info('relay.end', { idA: relay.idA, idB: relay.idB, target: relay.target.info.name, bytes: relay.check.position, ms });
  });
}

export function failRelay(s: Session, relay: Relay, err: AudioLabError): void {
  dropRelay(relay);
  s.log.warn('relay.fail', { idA: relay.idA, code: err.code, error: err.message });
  s.conn.sendError(err.code, publicMessage(err), { req: relay.req, streamId: relay.idA });
  relay.target.conn.send({ type: 'STREAM_ABORT', streamId: relay.idB, code: err.code, message: publicMessage(err) });
}

/** Forgets a relay on both sides and releases the source if it was held for backpressure. */
export function dropRelay(relay: Relay): void {
  relay.source.relaysOut.delete(relay.idA);
  relay.target.relaysIn.delete(relay.idB);
  relay.source.deadStreams.add(relay.idA);
  if (relay.waitingDrain) {
    relay.waitingDrain = false;
    relay.source.resume();
  }
}

