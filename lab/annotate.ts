/**
 * The annotated capture: the same packets as a capture, as pcapng, where each frame that starts one
 * of our protocol's messages, and each frame a TCP analysis flag marks, carries a comment in words.
 * Plain Wireshark or tshark, without our dissector, shows them and finds them with
 * `frame.comment contains "PLAY"`.
 */
import { readCapture } from '../analysis/capture/reader.ts';
import { PcapngWriter } from '../capture/pcapng-writer.ts';

/** pcapng options hold at most 65 535 bytes; a comment is a line, not a dump. */
const MAX_COMMENT = 2000;

/** Writes `input`'s packets to `output` (pcapng) with `annotations` (frame number → comments); returns the comments written. */
export function writeAnnotatedCapture(input: string, output: string, annotations: Map<number, string[]>): number {
  const w = new PcapngWriter(output);
  let comments = 0;
  try {
    readCapture(input, (p) => {
      const notes = (annotations.get(p.index) ?? []).map((c) => (c.length > MAX_COMMENT ? `${c.slice(0, MAX_COMMENT - 1)}…` : c));
      comments += notes.length;
      w.packet(p.linktype, p.sec, p.nsec, p.data, p.origlen, notes);
    });
  } finally {
    w.close();
  }
  return comments;
}
