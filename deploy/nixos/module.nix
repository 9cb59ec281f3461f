# NixOS module: services.islet, in services.mastodon's words where the
# meaning is the same (localDomain, webPort, streamingPort, enableUnixSocket,
# trustedProxy, secretKeyBaseFile, vapid*KeyFile, database.*, smtp.*,
# extraConfig, extraEnvFiles, configureNginx, mediaAutoRemove, user, group),
# so that a Mastodon configuration mostly carries over. Earlier names of
# this module still work (mkRenamedOptionModule, with a warning).
#
# Islet runs as a systemd service with a dynamic user and its state in
# /var/lib/islet (systemd creates and hands it over: no users to declare, no
# mkdir, no chown). Every secret is a file path, loaded with LoadCredential=:
# systemd reads it as root at start and gives the service a private copy, so
# root-only files decrypted by sops-nix or agenix work as they are, also when
# bind-mounted read-only into a NixOS container.
#
# `islet` on root's PATH runs an admin command as the service runs (same
# user, state directory, environment and credentials): `islet doctor`,
# `islet account show`, `islet backup /var/lib/islet-backups/x.tar`.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    mkOption
    mkEnableOption
    mkIf
    mkMerge
    mkDefault
    types
    optional
    optionalAttrs
    ;

  cfg = config.services.islet;
  helpers = import ./lib.nix;

  stateDir = "/var/lib/islet";
  backupDir = "/var/lib/islet-backups";

  webDomain = if cfg.webDomain == null then cfg.localDomain else cfg.webDomain;

  # The embedded database (PGlite in the state directory): asked for, or
  # what is left when no PostgreSQL is named.
  implicitEmbedded =
    !cfg.database.embedded
    && !cfg.database.createLocally
    && cfg.database.host == null
    && cfg.database.urlFile == null;
  embedded = cfg.database.embedded || implicitEmbedded;
  localPostgres = !embedded && cfg.database.createLocally && cfg.database.urlFile == null;

  postgresPort =
    if cfg.database.port != null then cfg.database.port else config.services.postgresql.settings.port or 5432;

  databaseEnvironment =
    if embedded || cfg.database.urlFile != null then
      { }
    else if localPostgres then
      {
        # Through the unix socket with peer authentication: no password.
        # postgres.js takes the socket directory from PGHOST (it does not
        # read libpq's ?host= parameter).
        DATABASE_URL = "postgres:///${cfg.database.name}";
        PGHOST = "/run/postgresql";
        PGPORT = toString postgresPort;
        PGUSER = cfg.database.user;
      }
    else
      {
        DATABASE_URL = "postgres://${cfg.database.user}@${toString cfg.database.host}:${toString postgresPort}/${cfg.database.name}";
      };

  # Log in when asked to, or (unset) when there is a user to log in as.
  smtpAuthenticate = if cfg.smtp.authenticate == null then cfg.smtp.user != null else cfg.smtp.authenticate;
  # Islet's own default: 465 with implicit TLS, else 587.
  smtpPort =
    if cfg.smtp.port != null then
      cfg.smtp.port
    else if cfg.smtp.tls then
      465
    else
      587;

  smtpEnvironment = optionalAttrs (cfg.smtp.host != null) (
    {
      SMTP_SERVER = cfg.smtp.host;
      SMTP_PORT = toString smtpPort;
      SMTP_TLS = if cfg.smtp.tls then "true" else "false";
      SMTP_ENABLE_STARTTLS = cfg.smtp.starttls;
      SMTP_AUTH_METHOD = if smtpAuthenticate then cfg.smtp.authMethod else "none";
      SMTP_OPENSSL_VERIFY_MODE = cfg.smtp.openSslVerifyMode;
    }
    // optionalAttrs (smtpAuthenticate && cfg.smtp.user != null) { SMTP_LOGIN = cfg.smtp.user; }
    // optionalAttrs (cfg.smtp.fromAddress != null) { SMTP_FROM_ADDRESS = cfg.smtp.fromAddress; }
    // optionalAttrs (cfg.smtp.caFile != null) { SMTP_CA_FILE = toString cfg.smtp.caFile; }
  );

  environment =
    {
      LOCAL_DOMAIN = cfg.localDomain;
      PORT = toString cfg.webPort;
      BIND = cfg.bind;
      DATA_DIR = stateDir;
      AUTHORIZED_FETCH = if cfg.authorizedFetch then "true" else "false";
      LOG_LEVEL = cfg.logLevel;
      MEDIA_CACHE_RETENTION_DAYS = toString (if cfg.mediaAutoRemove.enable then cfg.mediaAutoRemove.olderThanDays else 0);
      QUEUE_VISIBILITY_TIMEOUT = toString cfg.queueVisibilityTimeout;
      NODE_ENV = "production";
      # The admin command this module installs, for the hints Islet prints.
      ISLET_ADMIN_COMMAND = "islet";
    }
    // optionalAttrs (cfg.ffmpegPackage != null) {
      FFMPEG_BINARY = "${cfg.ffmpegPackage}/bin/ffmpeg";
      FFPROBE_BINARY = "${cfg.ffmpegPackage}/bin/ffprobe";
    }
    // optionalAttrs cfg.enableUnixSocket { SOCKET = helpers.socketPath; }
    // optionalAttrs (cfg.webDomain != null) { WEB_DOMAIN = cfg.webDomain; }
    // optionalAttrs (cfg.streamingPort != null) { STREAMING_PORT = toString cfg.streamingPort; }
    // optionalAttrs (cfg.streamingApiBaseUrl != null) { STREAMING_API_BASE_URL = cfg.streamingApiBaseUrl; }
    // optionalAttrs (cfg.trustedProxy != null) { TRUSTED_PROXY_IP = cfg.trustedProxy; }
    // databaseEnvironment
    // smtpEnvironment
    // cfg.extraConfig;

  secretFiles = helpers.secretFiles cfg;

  # ID:PATH pairs for LoadCredential=; Islet finds each in $CREDENTIALS_DIRECTORY.
  credentials = map (pair: "${pair.name}:${toString pair.path}") secretFiles;

  # Runs `islet ARGS` once the credentials are in place. Islet reads a
  # database password only as part of DATABASE_URL; postgres.js also takes it
  # from PGPASSWORD, which needs no URL-encoding.
  launcher = pkgs.writeShellScript "islet-launch" ''
    if [ -n "''${CREDENTIALS_DIRECTORY:-}" ] && [ -f "$CREDENTIALS_DIRECTORY/DATABASE_PASSWORD" ]; then
      PGPASSWORD="$(< "$CREDENTIALS_DIRECTORY/DATABASE_PASSWORD")"
      export PGPASSWORD
    fi
    exec ${cfg.package}/bin/islet "$@"
  '';

  # Settings shared by the service and the admin command.
  identity = {
    DynamicUser = true;
    User = cfg.user;
    Group = cfg.group;
    StateDirectory = "islet";
    StateDirectoryMode = "0700";
    UMask = "0077";
    LoadCredential = credentials;
    EnvironmentFile = cfg.extraEnvFiles;
  };

  toProperty =
    name: value:
    if builtins.isList value then
      map (v: "${name}=${toString v}") value
    else if builtins.isBool value then
      [ "${name}=${if value then "yes" else "no"}" ]
    else
      [ "${name}=${toString value}" ];

  adminArguments =
    lib.concatLists (lib.mapAttrsToList toProperty identity)
    ++ [
      "StateDirectory=islet-backups"
      "WorkingDirectory=${backupDir}"
    ];

  # `islet` for root: the admin command in a transient service that matches
  # islet.service. --pty --pipe: a terminal when run on one (prompts work),
  # plain pipes otherwise (`islet config | grep ...`).
  adminCommand = pkgs.writeShellScriptBin "islet" ''
    if [ "$(id -u)" -ne 0 ]; then
      echo "islet: run it as root (sudo islet $*)" >&2
      exit 1
    fi
    exec ${config.systemd.package}/bin/systemd-run --quiet --collect --wait --pty --pipe \
      --service-type=exec --description="islet $*" \
      ${lib.escapeShellArgs (map (p: "--property=${p}") adminArguments)} \
      ${lib.escapeShellArgs (lib.mapAttrsToList (name: value: "--setenv=${name}=${value}") environment)} \
      -- ${launcher} "$@"
  '';

  secretOption =
    what:
    mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/secrets/islet-${what}";
      description = ''
        A file holding the ${what}, read by systemd as root when the service
        starts (LoadCredential=), so it may be root-only. Give it as a string:
        a Nix path literal would be copied into the world-readable Nix store.
      '';
    };

  renamed = from: to: lib.mkRenamedOptionModule ([ "services" "islet" ] ++ from) ([ "services" "islet" ] ++ to);
in
{
  imports = [
    # This module's earlier names.
    (renamed [ "port" ] [ "webPort" ])
    (renamed [ "smtp" "server" ] [ "smtp" "host" ])
    (renamed [ "smtp" "login" ] [ "smtp" "user" ])
    (renamed [ "nginx" "enable" ] [ "configureNginx" ])
    (renamed [ "extraEnvironment" ] [ "extraConfig" ])
    (renamed [ "environmentFiles" ] [ "extraEnvFiles" ])
    (renamed [ "mediaCacheRetentionDays" ] [ "mediaAutoRemove" "olderThanDays" ])
    (lib.mkRemovedOptionModule [ "services" "islet" "nginx" "enableACME" ] ''
      configureNginx asks Let's Encrypt for the certificate (enableACME and
      forceSSL, as defaults): to do without, set
      services.nginx.virtualHosts.<web domain>.enableACME = false and forceSSL = false.
    '')
    (lib.mkRemovedOptionModule [ "services" "islet" "nginx" "serveMediaFromDisk" ] ''
      nginx cannot read Islet's media: the state directory of the service's
      dynamic user is under /var/lib/private (root only), Islet keeps it
      owner-only (0700) and writes files 0600, and a container's is out of the
      host's reach. Islet serves /system/ itself, with the same headers.
    '')
  ];

  options.services.islet = {
    enable = mkEnableOption "Islet, a single-user fediverse server";

    package = mkOption {
      type = types.package;
      description = "The Islet package (the flake's nixosModules.default sets its own).";
    };

    ffmpegPackage = mkOption {
      type = types.nullOr types.package;
      default = pkgs.ffmpeg-headless;
      description = ''
        The ffmpeg whose ffmpeg and ffprobe process videos and audio as
        Mastodon does (previews, GIFs as looping MP4, re-encoding what
        browsers cannot play). null leaves them out: videos are then kept
        as sent, without a preview.
      '';
    };

    user = mkOption {
      type = types.str;
      default = "islet";
      description = ''
        The service's user. A dynamic user (DynamicUser=): nothing to declare,
        no uid to keep in step between a host and a container; a static user
        of this name in users.users is used instead if there is one. With
        database.createLocally, PostgreSQL's peer authentication lets it in as
        the role of the same name.
      '';
    };

    group = mkOption {
      type = types.str;
      default = "islet";
      description = "The service's group (dynamic too, unless users.groups has it).";
    };

    localDomain = mkOption {
      type = types.str;
      example = "example.com";
      description = "The domain in your handle, @you@localDomain (LOCAL_DOMAIN).";
    };

    webDomain = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "social.example.com";
      description = ''
        The host serving pages, API and ActivityPub when it differs from
        localDomain (WEB_DOMAIN). With configureNginx, WebFinger, host-meta
        and NodeInfo on localDomain are redirected to it.
      '';
    };

    webPort = mkOption {
      type = types.port;
      default = 3000;
      description = "HTTP port (PORT).";
    };

    streamingPort = mkOption {
      type = types.nullOr types.port;
      default = null;
      description = "A second port that also serves the streaming API (STREAMING_PORT); null: streaming on webPort.";
    };

    enableUnixSocket = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Serve on the Unix socket ${helpers.socketPath} (SOCKET) instead of
        webPort; configureNginx and lib.nginxVirtualHost follow it. For nginx
        on the same machine only: a container's socket is out of its host's
        reach. The socket accepts every local user, as a loopback port does.
      '';
    };

    bind = mkOption {
      type = types.str;
      default = "127.0.0.1";
      example = "0.0.0.0";
      description = ''
        Address to listen on (BIND). Behind nginx on the same machine (or in a
        container sharing its network), keep 127.0.0.1; in a container with
        privateNetwork, its localAddress.
      '';
    };

    trustedProxy = mkOption {
      type = types.nullOr types.str;
      default = "127.0.0.1";
      example = "10.233.1.1";
      description = ''
        Proxies whose X-Forwarded-For names the client (TRUSTED_PROXY_IP):
        comma-separated addresses or CIDR ranges; null trusts none.
      '';
    };

    streamingApiBaseUrl = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "wss://streaming.example.com";
      description = "Where clients are told to connect for streaming (STREAMING_API_BASE_URL); null: the web origin.";
    };

    authorizedFetch = mkOption {
      type = types.bool;
      default = false;
      description = "Require signed requests for ActivityPub documents (AUTHORIZED_FETCH).";
    };

    logLevel = mkOption {
      type = types.enum [
        "debug"
        "info"
        "warning"
        "error"
      ];
      default = "info";
      description = "LOG_LEVEL.";
    };

    queueVisibilityTimeout = mkOption {
      type = types.ints.positive;
      default = 60;
      description = "Seconds a claimed queue job stays hidden from other workers unless renewed (QUEUE_VISIBILITY_TIMEOUT).";
    };

    mediaAutoRemove = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = "Remove cached remote media after olderThanDays (Islet's worker checks every six hours).";
      };
      olderThanDays = mkOption {
        type = types.ints.unsigned;
        default = 7;
        description = "How long cached remote media is kept (MEDIA_CACHE_RETENTION_DAYS; 0 keeps it, as enable = false does); it is fetched again when next viewed.";
      };
    };

    secretKeyBaseFile = secretOption "SECRET_KEY_BASE (for example from `openssl rand -hex 64`; null: Islet generates one into its state directory)";
    vapidPrivateKeyFile = secretOption "VAPID private key (Mastodon's works; null, with vapidPublicKeyFile null too: Islet generates a pair into its state directory)";
    vapidPublicKeyFile = secretOption "VAPID public key that goes with vapidPrivateKeyFile";

    database = {
      embedded = mkOption {
        type = types.bool;
        default = false;
        description = ''
          Use Islet's embedded database (PGlite, in the state directory)
          instead of PostgreSQL: nothing else to run. Also what happens when
          createLocally is false and no host or urlFile is given. PostgreSQL
          is the better choice for a server that should survive a power cut.
        '';
      };
      createLocally = mkOption {
        type = types.bool;
        default = true;
        description = ''
          Create the database and its role on this machine's PostgreSQL
          (services.postgresql) and connect through the unix socket with peer
          authentication: no password.
        '';
      };
      host = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "db.example.net";
        description = "PostgreSQL host, when createLocally is false.";
      };
      port = mkOption {
        type = types.nullOr types.port;
        default = null;
        example = 5433;
        description = ''
          PostgreSQL port; null: 5432, or services.postgresql's with
          createLocally. With createLocally, setting it also sets
          services.postgresql's (as a default).
        '';
      };
      name = mkOption {
        type = types.str;
        default = "islet";
        description = "Database name.";
      };
      user = mkOption {
        type = types.str;
        default = "islet";
        description = "Database role.";
      };
      passwordFile = secretOption "database password";
      urlFile = secretOption "whole DATABASE_URL (postgres://user:password@host:port/name), instead of the options above";
    };

    smtp = {
      host = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "smtp.example.net";
        description = "SMTP server (SMTP_SERVER); null: no mail.";
      };
      port = mkOption {
        type = types.nullOr types.port;
        default = null;
        description = "SMTP port (SMTP_PORT); null: 465 with tls, else 587.";
      };
      tls = mkOption {
        type = types.bool;
        default = false;
        description = "Implicit TLS from the first byte, as on port 465 (SMTP_TLS).";
      };
      starttls = mkOption {
        type = types.enum [
          "auto"
          "always"
          "never"
        ];
        default = "auto";
        description = "STARTTLS use (SMTP_ENABLE_STARTTLS).";
      };
      authenticate = mkOption {
        type = types.nullOr types.bool;
        default = null;
        description = "Log in to the SMTP server as user with passwordFile; null: when user is set.";
      };
      authMethod = mkOption {
        type = types.enum [
          "plain"
          "login"
          "cram_md5"
        ];
        default = "plain";
        description = "How to log in (SMTP_AUTH_METHOD).";
      };
      user = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "SMTP user name (SMTP_LOGIN).";
      };
      passwordFile = secretOption "SMTP password";
      fromAddress = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "Islet <notifications@example.com>";
        description = "Sender of Islet's mail (SMTP_FROM_ADDRESS); null: notifications@localDomain.";
      };
      caFile = mkOption {
        type = types.nullOr types.path;
        default = null;
        description = "An extra CA certificate to trust for the SMTP server (SMTP_CA_FILE); it must be readable by the service.";
      };
      openSslVerifyMode = mkOption {
        type = types.enum [
          "peer"
          "none"
        ];
        default = "peer";
        description = "none skips the certificate checks (SMTP_OPENSSL_VERIFY_MODE).";
      };
    };

    extraConfig = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = {
        ALLOW_PRIVATE_ADDRESS = "false";
      };
      description = "More environment variables for Islet (not for secrets: they end up in the Nix store).";
    };

    extraEnvFiles = mkOption {
      type = types.listOf types.path;
      default = [ ];
      description = "Files of NAME=value lines read by systemd (EnvironmentFile=), for settings kept out of the Nix store.";
    };

    configureNginx = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Put nginx in front: a virtual host for the web domain with the
        locations of deploy/nginx/islet.conf, a certificate from Let's
        Encrypt (set security.acme.acceptTerms and
        security.acme.defaults.email) and HTTP redirected to HTTPS.
      '';
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Open 80 and 443 with configureNginx, else webPort (and streamingPort).";
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      assertions = [
        {
          assertion = cfg.localDomain != "";
          message = "services.islet.localDomain must be set.";
        }
        {
          assertion = !localPostgres || (cfg.database.user == cfg.user && cfg.database.name == cfg.database.user);
          message = "services.islet.database: with createLocally, user and name must both be \"${cfg.user}\", the service's user (peer authentication matches the service's user, and the role owns the database of its name).";
        }
        {
          assertion = !cfg.database.embedded || (cfg.database.host == null && cfg.database.urlFile == null);
          message = "services.islet.database: embedded is set, and so is host or urlFile; choose one.";
        }
        {
          assertion = !smtpAuthenticate || (cfg.smtp.user != null && cfg.smtp.passwordFile != null);
          message = "services.islet.smtp: authenticate needs user and passwordFile.";
        }
        {
          assertion = (cfg.vapidPrivateKeyFile == null) == (cfg.vapidPublicKeyFile == null);
          message = "services.islet: set both vapidPrivateKeyFile and vapidPublicKeyFile, or neither.";
        }
        {
          assertion = builtins.all (pair: !(lib.hasPrefix builtins.storeDir (toString pair.path))) secretFiles;
          message = "services.islet: a secret file is in the Nix store, readable by every user; give its path as a string outside the store.";
        }
      ];

      warnings = optional implicitEmbedded "services.islet.database: createLocally is false and neither host nor urlFile is set, so Islet uses its embedded database; set database.embedded = true to say so.";

      environment.systemPackages = [ adminCommand ];

      systemd.services.islet = {
        description = "Islet, a single-user fediverse server";
        wantedBy = [ "multi-user.target" ];
        wants = [ "network-online.target" ];
        after = [ "network-online.target" ];
        inherit environment;
        serviceConfig = identity // {
          # The socket's folder: the service's only (the admin command must
          # not have it, or its end would remove the folder).
          RuntimeDirectory = "islet";
          RuntimeDirectoryMode = "0755";
          Type = "exec";
          ExecStart = "${launcher} serve";
          Restart = "on-failure";
          RestartSec = "5s";
          TimeoutStopSec = "30s";

          ProtectSystem = "strict";
          ProtectHome = true;
          PrivateTmp = true;
          PrivateDevices = true;
          NoNewPrivileges = true;
          ProtectKernelTunables = true;
          ProtectKernelModules = true;
          ProtectKernelLogs = true;
          ProtectControlGroups = true;
          ProtectClock = true;
          ProtectHostname = true;
          ProtectProc = "invisible";
          RestrictNamespaces = true;
          RestrictRealtime = true;
          RestrictSUIDSGID = true;
          LockPersonality = true;
          # Node's V8 JIT writes machine code and then executes it.
          MemoryDenyWriteExecute = false;
          RestrictAddressFamilies = [
            "AF_UNIX"
            "AF_INET"
            "AF_INET6"
          ];
          SystemCallArchitectures = "native";
          SystemCallFilter = [
            "@system-service"
            "~@privileged @resources"
          ];
          SystemCallErrorNumber = "EPERM";
          CapabilityBoundingSet = "";
          AmbientCapabilities = "";
        };
      };
    }

    (mkIf localPostgres {
      services.postgresql = {
        enable = true;
        ensureDatabases = [ cfg.database.name ];
        ensureUsers = [
          {
            name = cfg.database.user;
            ensureDBOwnership = true;
          }
        ];
      };
      systemd.services.islet = {
        requires = [ "postgresql.service" ];
        # postgresql-setup.service creates the role on newer NixOS.
        after = [
          "postgresql.service"
          "postgresql-setup.service"
        ];
      };
    })

    (mkIf (localPostgres && cfg.database.port != null) {
      services.postgresql.settings.port = mkDefault cfg.database.port;
    })

    (mkIf cfg.configureNginx {
      services.nginx = {
        enable = true;
        virtualHosts =
          {
            ${webDomain} = helpers.nginxVirtualHost cfg // {
              enableACME = mkDefault true;
              forceSSL = mkDefault true;
            };
          }
          // optionalAttrs (webDomain != cfg.localDomain) {
            # Merges into your own virtual host for the handle domain, if any.
            ${cfg.localDomain} = {
              enableACME = mkDefault true;
              forceSSL = mkDefault true;
              locations = {
                "= /.well-known/webfinger".return = "301 https://${webDomain}$request_uri";
                "= /.well-known/host-meta".return = "301 https://${webDomain}$request_uri";
                "= /.well-known/nodeinfo".return = "301 https://${webDomain}$request_uri";
              };
            };
          };
      };
    })

    (mkIf cfg.openFirewall {
      networking.firewall.allowedTCPPorts =
        if cfg.configureNginx then
          [
            80
            443
          ]
        else
          optional (!cfg.enableUnixSocket) cfg.webPort ++ optional (cfg.streamingPort != null) cfg.streamingPort;
    })
  ]);
}
