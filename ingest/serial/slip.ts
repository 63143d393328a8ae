/**
 * SLIP, RFC 1055 "A Nonstandard for Transmission of IP Datagrams over Serial Lines" (1988): a packet
 * is sent with END (0xC0) after it; END and ESC (0xDB) inside it become ESC ESC_END (0xDB 0xDC) and
 * ESC ESC_ESC (0xDB 0xDD). As the RFC recommends, the encoder also sends an END *before* each packet,
 * so line noise that arrived since the last packet is closed off as a packet of its own instead of
 * being glued to the front of the next one (the frame layer then throws it away).
 *
 * The decoder is streaming: chunks may split a packet anywhere (even between ESC and its code).
 * Every wire byte is accounted for: it is an END, or it belongs to exactly one reported packet
 * (`wireBytes`). Empty packets (back-to-back ENDs) are not reported. A packet longer than
 * `maxPacketBytes` keeps its first `maxPacketBytes` decoded bytes and is reported `oversize` when its
 * END arrives; the rest is counted, not stored. An ESC followed by anything else than ESC_END or
 * ESC_ESC is a protocol violation the RFC resolves by keeping the byte: so does this decoder, and it
 * counts it (`badEscapes`) so the frame layer can say so. A decoder created `synced: false` (or after
 * `resync()`) treats the bytes before the next END as the tail of a packet it missed: they are
 * reported as one packet with `unsynced: true` and no bytes kept.
 */

export const SLIP_END = 0xc0;
export const SLIP_ESC = 0xdb;
export const SLIP_ESC_END = 0xdc;
export const SLIP_ESC_ESC = 0xdd;

/** The wire form of one packet: END, the escaped bytes, END. */
export function slipEncode(packet: Uint8Array): Uint8Array {
  let specials = 0;
  for (let i = 0; i < packet.length; i++) if (packet[i] === SLIP_END || packet[i] === SLIP_ESC) specials++;
  const out = new Uint8Array(packet.length + specials + 2);
  let n = 0;
  out[n++] = SLIP_END;
  for (let i = 0; i < packet.length; i++) {
    const b = packet[i];
    if (b === SLIP_END) {
      out[n++] = SLIP_ESC;
      out[n++] = SLIP_ESC_END;
    } else if (b === SLIP_ESC) {
      out[n++] = SLIP_ESC;
      out[n++] = SLIP_ESC_ESC;
    } else {
      out[n++] = b;
    }
  }
  out[n++] = SLIP_END;
  return out;
}

export interface SlipPacket {
  /** Decoded bytes: all of them, or the first `maxPacketBytes` when `oversize`; empty when `unsynced`. */
  bytes: Uint8Array;
  /** Wire bytes the packet occupied (escapes count 2), without its closing END. */
  wireBytes: number;
  /** Decoded length, including bytes not kept (oversize) or not decoded (unsynced: wire bytes). */
  decodedBytes: number;
  /** More than `maxPacketBytes` decoded bytes. */
  oversize: boolean;
  /** ESC followed by a byte other than ESC_END / ESC_ESC (kept as is, RFC 1055), or ESC right before END. */
  badEscapes: number;
  /** Bytes that arrived before the decoder saw its first END (since creation or `resync()`). */
  unsynced: boolean;
}

export interface SlipDecoderOptions {
  /** Largest packet kept whole, in decoded bytes (default 4 MiB). */
  maxPacketBytes?: number;
  /** Whether the first byte starts a packet (true) or the decoder first waits for an END (false, default true). */
  synced?: boolean;
}

const INITIAL_CAPACITY = 64 * 1024;

export class SlipDecoder {
  readonly maxPacketBytes: number;
  private buf: Uint8Array;
  private len = 0;
  private decoded = 0;
  private wire = 0;
  private escaped = false;
  private badEscapes = 0;
  private synced: boolean;

  constructor(options: SlipDecoderOptions = {}) {
    const max = options.maxPacketBytes ?? 4 * 1024 * 1024;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxPacketBytes must be a positive integer, got ${max}`);
    this.maxPacketBytes = max;
    this.buf = new Uint8Array(Math.min(INITIAL_CAPACITY, max));
    this.synced = options.synced ?? true;
  }

  /** Wire bytes of the packet in progress (not yet closed by an END). */
  get pendingWireBytes(): number {
    return this.wire;
  }

  /**
   * Forgets the packet in progress and waits for the next END (use after a reconnect: the next bytes
   * may be the middle of a packet). Returns the packet in progress, if any, as an `unsynced` packet
   * so its wire bytes can be counted.
   */
  resync(): SlipPacket | null {
    const pending = this.wire > 0 ? this.unsyncedPacket(this.wire) : null;
    this.reset();
    this.synced = false;
    return pending;
  }

  /** Feeds one chunk; returns the packets it completed, in order. */
  push(chunk: Uint8Array): SlipPacket[] {
    const out: SlipPacket[] = [];
    let i = 0;
    if (!this.synced) {
      const end = chunk.indexOf(SLIP_END);
      if (end < 0) {
        this.wire += chunk.length;
        return out;
      }
      this.wire += end;
      if (this.wire > 0) out.push(this.unsyncedPacket(this.wire));
      this.reset();
      this.synced = true;
      i = end + 1;
    }
    for (; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === SLIP_END) {
        if (this.escaped) this.badEscapes++;
        if (this.wire > 0) out.push(this.finish());
        this.reset();
        continue;
      }
      this.wire++;
      if (this.escaped) {
        this.escaped = false;
        if (b === SLIP_ESC_END) this.append(SLIP_END);
        else if (b === SLIP_ESC_ESC) this.append(SLIP_ESC);
        else {
          this.badEscapes++;
          this.append(b);
        }
      } else if (b === SLIP_ESC) {
        this.escaped = true;
      } else {
        this.append(b);
      }
    }
    return out;
  }

  private append(b: number): void {
    this.decoded++;
    if (this.len >= this.maxPacketBytes) return;
    if (this.len === this.buf.length) {
      const grown = new Uint8Array(Math.min(this.buf.length * 2, this.maxPacketBytes));
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.len++] = b;
  }

  private finish(): SlipPacket {
    return {
      bytes: this.buf.slice(0, this.len),
      wireBytes: this.wire,
      decodedBytes: this.decoded,
      oversize: this.decoded > this.maxPacketBytes,
      badEscapes: this.badEscapes,
      unsynced: false,
    };
  }

  private unsyncedPacket(wireBytes: number): SlipPacket {
    return { bytes: new Uint8Array(0), wireBytes, decodedBytes: wireBytes, oversize: false, badEscapes: 0, unsynced: true };
  }

  private reset(): void {
    this.len = 0;
    this.decoded = 0;
    this.wire = 0;
    this.escaped = false;
    this.badEscapes = 0;
    // Give back a buffer grown for a big packet once it is done.
    if (this.buf.length > INITIAL_CAPACITY) this.buf = new Uint8Array(Math.min(INITIAL_CAPACITY, this.maxPacketBytes));
  }
}
