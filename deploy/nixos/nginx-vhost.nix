# nginx in front of Islet, as a value for NixOS's
# services.nginx.virtualHosts.<WEB_DOMAIN>: the same locations and settings as
# deploy/nginx/islet.conf, except /system/ (Islet serves media itself: see
# deploy/README.md, "Media from disk"). A plain function, so that a host can
# also use it for an Islet that runs in a container (the flake exports it as
# lib.nginxVirtualHost). It takes either where Islet listens, or a whole
# services.islet configuration (a container's:
# `config.containers.islet.config.services.islet`), whose bind, webPort,
# enableUnixSocket and streamingPort it reads.
#
# Where Islet listens: `address` (BIND), `port` (PORT) or `socket`
# (SOCKET), and, if set, `streamingPort` (STREAMING_PORT); or
# services.islet's `bind`, `webPort`, `enableUnixSocket` and
# `streamingPort`.
args:
let
  socket =
    if args.socket or null != null then
      args.socket
    else if args.enableUnixSocket or false then
      (import ./lib.nix).socketPath
    else
      null;
  bind = args.bind or "127.0.0.1";
  # Islet listening on every address is reached on loopback.
  host =
    if args.address or null != null then
      args.address
    else if bind == "0.0.0.0" || bind == "::" then
      "127.0.0.1"
    else
      bind;
  # webPort first: a services.islet configuration also has `port`, the
  # renamed option's alias, which warns when read.
  port = args.webPort or args.port or 3000;
  streamingPort = args.streamingPort or null;
  authority = if builtins.match ".*:.*" host != null then "[${host}]" else host;
  web = if socket != null then "http://unix:${socket}" else "http://${authority}:${toString port}";
  streaming = if streamingPort == null then web else "http://${authority}:${toString streamingPort}";
  hsts = ''add_header Strict-Transport-Security "max-age=63072000" always;'';
in
{
  extraConfig = ''
    ${hsts}
    client_max_body_size 100m;
    gzip on;
    gzip_vary on;
    gzip_proxied any;
    gzip_comp_level 5;
    gzip_min_length 256;
    gzip_types application/json application/activity+json application/ld+json
               application/jrd+json application/xrd+xml application/javascript
               text/css text/plain image/svg+xml;
  '';

  locations = {
    "/" = {
      proxyPass = web;
      recommendedProxySettings = true;
    };
    "/api/v1/streaming" = {
      proxyPass = streaming;
      proxyWebsockets = true;
      recommendedProxySettings = true;
      extraConfig = ''
        proxy_buffering off;
        proxy_cache off;
        proxy_read_timeout 1h;
        proxy_send_timeout 1h;
        tcp_nodelay on;
      '';
    };
  };
}
