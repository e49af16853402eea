/**
 * Names that come from the network are never trusted as paths. A song name must be a plain file
 * name: no separators, no parent references, not hidden, printable, ending in .wav. A name that
 * breaks a rule is refused with AUDIOLAB_ERR_BAD_NAME (never "repaired" into something the sender
 * did not ask for).
 */
import { AudioLabError } from '../protocol/errors.ts';

const MAX_NAME = 128;
/** Bytes, as file systems count: 255 at most, less room for an alternative name's " (9999)". */
const MAX_NAME_BYTES = 240;
const ALLOWED = /^[\p{L}\p{N} _\-.,()+'&!]+$/u;

export function checkSongName(raw: string): string {
  const name = raw.normalize('NFC');
  const bad = (why: string): never => {
    throw new AudioLabError('AUDIOLAB_ERR_BAD_NAME', `Song name ${JSON.stringify(raw.slice(0, 80))} refused: ${why}`, { song: raw.slice(0, 80) });
  };
  if (name.length === 0) bad('empty');
  if (name.length > MAX_NAME) bad(`longer than ${MAX_NAME} characters`);
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) bad(`longer than ${MAX_NAME_BYTES} bytes in UTF-8`);
  if (/[/\\]/.test(name)) bad('contains a path separator');
  if (name.includes('..')) bad('contains ".."');
  if (name.startsWith('.')) bad('hidden names are not allowed');
  if (name.startsWith(' ') || name.endsWith(' ')) bad('leading or trailing space');
  if (!ALLOWED.test(name)) bad('contains characters outside letters, digits and  _-.,()+\'&!');
  if (!/\.wav$/i.test(name)) bad('must end in .wav');
  return name;
}

/** Client names: short, no spaces, so they can be typed on a command line. */
export function cleanClientName(raw: string): string {
  const name = raw.normalize('NFC').replace(/[^\p{L}\p{N}_-]/gu, '').slice(0, 32);
  return name.length > 0 ? name : 'client';
}

/** "song.wav" → "song (2).wav", "song (3).wav", … (the suffix goes before the extension, whatever case mapping does to the rest). */
export function alternativeName(name: string, n: number): string {
  const dot = name.length - '.wav'.length;
  return `${name.slice(0, dot)} (${n})${name.slice(dot)}`;
}
