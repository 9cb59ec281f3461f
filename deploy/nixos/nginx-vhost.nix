# nginx in front of Islet, as a value for NixOS's
# services.nginx.virtualHosts.<WEB_DOMAIN>: the same locations and settings as
# deploy/nginx/islet.conf. A plain function, so that a host can also use it
# for an Islet that runs in a container (the flake exports it as
# lib.nginxVirtualHost).
{
  # Where Islet listens (BIND, PORT) and, if set, STREAMING_PORT.
  address ? "127.0.0.1",
  port ? 3000,
  streamingPort ? null,
  # DATA_DIR/media, to serve /system/ straight from disk; null lets Islet
  # serve it. nginx must be able to read it: see deploy/README.md, "Media
  # from disk" (it cannot with the module's DynamicUser service).
  mediaDir ? null,
}:
let
  web = "http://${address}:${toString port}";
  streaming = "http://${address}:${toString (if streamingPort == null then port else streamingPort)}";
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
    "@islet" = {
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
  }
  // (
    if mediaDir == null then
      { }
    else
      {
        "/system/" = {
          alias = "${toString mediaDir}/";
          tryFiles = "$uri @islet";
          extraConfig = ''
            add_header Cache-Control "public, max-age=31536000, immutable";
            add_header Content-Security-Policy "default-src 'none'; form-action 'none'; sandbox";
            add_header X-Content-Type-Options nosniff;
            add_header Access-Control-Allow-Origin "*";
            ${hsts}
          '';
        };
      }
  );
}
