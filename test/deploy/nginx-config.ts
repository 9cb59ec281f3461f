/**
 * The shipped nginx files (deploy/nginx/) filled in as an admin would, for a
 * test: certificate paths, loopback ports, the upstream address, the media
 * folder and the domains replaced, inside an nginx.conf of its own that
 * needs no system folders.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { replaceAll, ROOT } from "./tools.ts";

function hasIpv6Loopback(): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((a) => a.family === "IPv6" && a.address === "::1"));
}

/**
 * A shipped nginx file with the certificate paths and listen ports filled
 * in: loopback only, IPv6 when this machine has ::1.
 */
export function localiseNginx(text: string, options: { cert: string; key: string; https: number; http: number }): string {
  const { https, http } = options;
  const v6 = hasIpv6Loopback();
  text = replaceAll(text, /\/etc\/letsencrypt\/live\/example\.com\/fullchain\.pem/g, options.cert, "the certificate path");
  text = replaceAll(text, /\/etc\/letsencrypt\/live\/example\.com\/privkey\.pem/g, options.key, "the key path");
  text = replaceAll(text, /listen 443 ssl http2;/g, `listen 127.0.0.1:${https} ssl http2;`, "listen 443");
  text = replaceAll(text, /listen \[::\]:443 ssl http2;/g, v6 ? `listen [::1]:${https} ssl http2;` : "", "listen [::]:443");
  text = replaceAll(text, /listen 80;/g, `listen 127.0.0.1:${http};`, "listen 80");
  text = replaceAll(text, /listen \[::\]:80;/g, v6 ? `listen [::1]:${http};` : "", "listen [::]:80");
  return text;
}

export interface NginxOptions {
  dir: string;
  cert: string;
  key: string;
  https: number;
  http: number;
  /** Islet's address, for both upstreams. */
  upstream: number;
  /** DATA_DIR/media. */
  media: string;
  /** WEB_DOMAIN; LOCAL_DOMAIN (the handle domain) is example.com. */
  webDomain: string;
  /** Workers run as this user (`user` directive), when the master runs as root. */
  user?: string;
}

/** Writes islet.conf, islet-handle-domain.conf and nginx.conf into `dir`; returns the nginx.conf path. */
export function writeNginxConfig(options: NginxOptions): string {
  const { dir } = options;
  const localise = (text: string) => localiseNginx(text, options);
  let main = localise(readFileSync(join(ROOT, "deploy/nginx/islet.conf"), "utf8"));
  main = replaceAll(main, "127.0.0.1:3000", `127.0.0.1:${options.upstream}`, "the upstream address");
  main = replaceAll(main, "alias /var/lib/islet/media/;", `alias ${options.media}/;`, "the media alias");
  main = replaceAll(main, /example\.com/g, options.webDomain, "the domain");
  writeFileSync(join(dir, "islet.conf"), main);
  let handle = localise(readFileSync(join(ROOT, "deploy/nginx/islet-handle-domain.conf"), "utf8"));
  handle = replaceAll(handle, /social\.example\.com/g, options.webDomain, "the web domain");
  writeFileSync(join(dir, "islet-handle-domain.conf"), handle);
  const mimeTypes = "/etc/nginx/mime.types";
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, [
    ...(options.user != null && process.getuid?.() === 0 ? [`user ${options.user};`] : []),
    `pid ${join(dir, "nginx.pid")};`,
    `error_log ${join(dir, "error.log")} info;`,
    "worker_processes 1;",
    "events { worker_connections 128; }",
    "http {",
    existsSync(mimeTypes) ? `  include ${mimeTypes};` : "  types { text/plain txt; image/png png; image/jpeg jpg; image/webp webp; application/json json; }",
    "  default_type application/octet-stream;",
    "  access_log off;",
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${join(dir, t)};`),
    `  include ${join(dir, "islet.conf")};`,
    `  include ${join(dir, "islet-handle-domain.conf")};`,
    "}",
    "",
  ].join("\n"));
  return conf;
}
