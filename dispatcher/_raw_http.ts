/**
 * A raw HTTP/1.1 client over a loopback TCP socket, for tests that must send
 * what `fetch` refuses to (odd Content-Length headers, a body cut short) and
 * see exactly how the server answers and whether it closes the connection.
 *
 * @module
 */

/** One parsed answer. */
export interface RawAnswer {
  status: number;
  headers: Headers;
  body: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A connection that sends bytes and reads answers one at a time. */
export class RawConnection {
  readonly #conn: Deno.TcpConn;
  #buffer = new Uint8Array(0);
  #ended = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to `port` on 127.0.0.1. */
  static async open(port: number): Promise<RawConnection> {
    return new RawConnection(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Sends text or bytes; false when the server no longer takes them. */
  async send(data: string | Uint8Array): Promise<boolean> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    try {
      let sent = 0;
      while (sent < bytes.length) sent += await this.#conn.write(bytes.subarray(sent));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Reads one whole answer (its headers and its Content-Length body).
   *
   * @throws {Error} when the connection ends or breaks before the whole
   *   answer, or when none arrives within `timeoutMs` (the socket is then closed)
   */
  async answer(timeoutMs = 5000): Promise<RawAnswer> {
    const timer = setTimeout(() => this.close(), timeoutMs);
    try {
      return await this.#answer();
    } catch (error) {
      throw new Error(`No whole answer within ${timeoutMs} ms`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  async #answer(): Promise<RawAnswer> {
    let headEnd: number;
    while ((headEnd = this.#find("\r\n\r\n")) < 0) await this.#fill();
    const head = decoder.decode(this.#buffer.subarray(0, headEnd)).split("\r\n");
    const status = Number(head[0].split(" ")[1]);
    const headers = new Headers();
    for (const line of head.slice(1)) {
      const colon = line.indexOf(":");
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    const length = Number(headers.get("content-length") ?? 0);
    while (this.#buffer.length < headEnd + 4 + length) await this.#fill();
    const body = decoder.decode(this.#buffer.subarray(headEnd + 4, headEnd + 4 + length));
    this.#buffer = this.#buffer.slice(headEnd + 4 + length);
    return { status, headers, body };
  }

  /**
   * Whether the server closes the connection within `ms`: true for an orderly
   * end of stream; a reset throws.
   */
  async closedWithin(ms: number): Promise<boolean> {
    const timer = setTimeout(() => this.#conn.close(), ms);
    try {
      while (!this.#ended) await this.#fill();
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
        return false;
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the sending side only; answers can still be read. */
  async closeWrite(): Promise<void> {
    await this.#conn.closeWrite();
  }

  /** Closes the socket; safe to call twice. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed by closedWithin's timer.
    }
  }

  #find(text: string): number {
    const needle = encoder.encode(text);
    outer: for (let i = 0; i + needle.length <= this.#buffer.length; i++) {
      for (let j = 0; j < needle.length; j++) {
        if (this.#buffer[i + j] !== needle[j]) continue outer;
      }
      return i;
    }
    return -1;
  }

  async #fill(): Promise<void> {
    if (this.#ended) throw new Error("Connection ended before a whole answer");
    const chunk = new Uint8Array(16384);
    const n = await this.#conn.read(chunk);
    if (n === null) {
      this.#ended = true;
      return;
    }
    const joined = new Uint8Array(this.#buffer.length + n);
    joined.set(this.#buffer);
    joined.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = joined;
  }
}
