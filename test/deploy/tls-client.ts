/**
 * An HTTPS client for talking to a local reverse proxy as a browser or an
 * app on the internet would: the request goes to 127.0.0.1:PORT but names
 * its site (`Host` and SNI), certificate checks are off (the test makes a
 * self-signed one), and it may come from another loopback address
 * (127.0.0.2, ...) so the proxy sees a client other than itself.
 */
import { request as httpsRequest } from "node:https";
import type { IncomingMessage } from "node:http";

export interface TlsReply {
  status: number;
  headers: IncomingMessage["headers"];
  body: Buffer;
  text: string;
}

export interface TlsRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** The local address to connect from (default: the system's choice, 127.0.0.1). */
  from?: string;
}

export function tlsRequest(port: number, host: string, path: string, options: TlsRequestOptions = {}): Promise<TlsReply> {
  return new Promise((done, fail) => {
    const req = httpsRequest({
      host: "127.0.0.1",
      port,
      path,
      method: options.method ?? "GET",
      servername: host,
      rejectUnauthorized: false,
      agent: false,
      localAddress: options.from,
      headers: { host, ...options.headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        done({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString("utf8") });
      });
      res.on("error", fail);
    });
    req.setTimeout(20_000, () => req.destroy(new Error(`timeout: ${options.method ?? "GET"} ${path}`)));
    req.on("error", fail);
    req.end(options.body);
  });
}

/** Cookies for one site, as a browser keeps them; remembers the raw Set-Cookie lines. */
export class SiteCookies {
  readonly values = new Map<string, string>();
  readonly setCookieLines: string[] = [];

  absorb(reply: TlsReply): void {
    const lines = reply.headers["set-cookie"] ?? [];
    for (const line of lines) {
      this.setCookieLines.push(line);
      const [pair, ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === "" || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.values.delete(name);
      else this.values.set(name, value);
    }
  }

  header(): Record<string, string> {
    if (this.values.size === 0) return {};
    return { cookie: [...this.values].map(([name, value]) => `${name}=${value}`).join("; ") };
  }
}
