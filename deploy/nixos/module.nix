# NixOS module: services.islet.
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

  # The service's user name, fixed so that PostgreSQL peer authentication and
  # the admin command see the same one.
  user = "islet";
  stateDir = "/var/lib/islet";
  backupDir = "/var/lib/islet-backups";

  webDomain = if cfg.webDomain == null then cfg.localDomain else cfg.webDomain;

  postgresPort = config.services.postgresql.settings.port or 5432;

  databaseEnvironment =
    if cfg.database.urlFile != null then
      { }
    else if cfg.database.createLocally then
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
        DATABASE_URL = "postgres://${cfg.database.user}@${toString cfg.database.host}:${toString cfg.database.port}/${cfg.database.name}";
      };

  smtpEnvironment = optionalAttrs (cfg.smtp.server != null) (
    {
      SMTP_SERVER = cfg.smtp.server;
      SMTP_PORT = toString cfg.smtp.port;
      SMTP_TLS = if cfg.smtp.tls then "true" else "false";
      SMTP_ENABLE_STARTTLS = cfg.smtp.starttls;
    }
    // optionalAttrs (cfg.smtp.login != null) { SMTP_LOGIN = cfg.smtp.login; }
    // optionalAttrs (cfg.smtp.fromAddress != null) { SMTP_FROM_ADDRESS = cfg.smtp.fromAddress; }
  );

  environment =
    {
      LOCAL_DOMAIN = cfg.localDomain;
      PORT = toString cfg.port;
      BIND = cfg.bind;
      DATA_DIR = stateDir;
      MEDIA_CACHE_RETENTION_DAYS = toString cfg.mediaCacheRetentionDays;
      NODE_ENV = "production";
    }
    // optionalAttrs (cfg.webDomain != null) { WEB_DOMAIN = cfg.webDomain; }
    // optionalAttrs (cfg.streamingPort != null) { STREAMING_PORT = toString cfg.streamingPort; }
    // optionalAttrs cfg.nginx.enable { TRUSTED_PROXY_IP = "127.0.0.1"; }
    // databaseEnvironment
    // smtpEnvironment
    // cfg.extraEnvironment;

  # ID:PATH pairs for LoadCredential=; Islet finds each in $CREDENTIALS_DIRECTORY.
  credentials =
    optional (cfg.secretKeyBaseFile != null) "SECRET_KEY_BASE:${toString cfg.secretKeyBaseFile}"
    ++ optional (cfg.database.urlFile != null) "DATABASE_URL:${toString cfg.database.urlFile}"
    ++ optional (
      cfg.database.urlFile == null && cfg.database.passwordFile != null
    ) "DATABASE_PASSWORD:${toString cfg.database.passwordFile}"
    ++ optional (cfg.smtp.passwordFile != null) "SMTP_PASSWORD:${toString cfg.smtp.passwordFile}";

  secretFiles = builtins.filter (f: f != null) [
    cfg.secretKeyBaseFile
    cfg.database.urlFile
    cfg.database.passwordFile
    cfg.smtp.passwordFile
  ];

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
    User = user;
    StateDirectory = "islet";
    StateDirectoryMode = "0700";
    UMask = "0077";
    LoadCredential = credentials;
    EnvironmentFile = cfg.environmentFiles;
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
in
{
  options.services.islet = {
    enable = mkEnableOption "Islet, a single-user fediverse server";

    package = mkOption {
      type = types.package;
      description = "The Islet package (the flake's nixosModules.default sets its own).";
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
        localDomain (WEB_DOMAIN). With nginx.enable, WebFinger and host-meta
        on localDomain are redirected to it.
      '';
    };

    port = mkOption {
      type = types.port;
      default = 3000;
      description = "HTTP port (PORT).";
    };

    streamingPort = mkOption {
      type = types.nullOr types.port;
      default = null;
      description = "A second port that also serves the streaming API (STREAMING_PORT).";
    };

    bind = mkOption {
      type = types.str;
      default = "127.0.0.1";
      description = "Address to listen on (BIND). Behind nginx on the same machine, keep 127.0.0.1.";
    };

    database = {
      createLocally = mkOption {
        type = types.bool;
        default = true;
        description = ''
          Create the database and its role on this machine's PostgreSQL
          (services.postgresql) and connect through the unix socket with peer
          authentication: no password, no TCP port.
        '';
      };
      host = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "db.example.net";
        description = "PostgreSQL host, when createLocally is false.";
      };
      port = mkOption {
        type = types.port;
        default = 5432;
        description = "PostgreSQL port, when createLocally is false.";
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
      server = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "smtp.example.net";
        description = "SMTP server (SMTP_SERVER); null: no mail.";
      };
      port = mkOption {
        type = types.port;
        default = 587;
        description = "SMTP port (SMTP_PORT): 587 with STARTTLS, 465 with tls = true.";
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
      login = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "SMTP user name (SMTP_LOGIN).";
      };
      passwordFile = secretOption "SMTP password";
      fromAddress = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "Islet <notifications@example.com>";
        description = "Sender of Islet's mail (SMTP_FROM_ADDRESS).";
      };
    };

    secretKeyBaseFile = secretOption "SECRET_KEY_BASE (for example from `openssl rand -hex 64`; null: Islet generates one into its state directory)";

    extraEnvironment = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = {
        AUTHORIZED_FETCH = "true";
        LOG_LEVEL = "debug";
      };
      description = "More environment variables for Islet (not for secrets: they end up in the Nix store).";
    };

    environmentFiles = mkOption {
      type = types.listOf types.path;
      default = [ ];
      description = "Files of NAME=value lines read by systemd (EnvironmentFile=), for settings kept out of the Nix store.";
    };

    mediaCacheRetentionDays = mkOption {
      type = types.ints.unsigned;
      default = 7;
      description = "How long cached remote media is kept (MEDIA_CACHE_RETENTION_DAYS).";
    };

    nginx = {
      enable = mkOption {
        type = types.bool;
        default = false;
        description = ''
          Put nginx in front: a virtual host for the web domain with the
          locations of deploy/nginx/islet.conf, and TRUSTED_PROXY_IP set.
        '';
      };
      enableACME = mkOption {
        type = types.bool;
        default = true;
        description = "Get the certificate from Let's Encrypt and redirect HTTP to HTTPS (set security.acme.acceptTerms and security.acme.defaults.email).";
      };
      serveMediaFromDisk = mkOption {
        type = types.bool;
        default = false;
        description = ''
          Let nginx serve /system/ from /var/lib/islet/media. Off, because
          nginx cannot read the service's private state directory: every
          request would fall back to Islet with an error logged. For setups
          where nginx can read it.
        '';
      };
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Open 80 and 443 with nginx.enable, else port (and streamingPort).";
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
          assertion = !cfg.database.createLocally || cfg.database.urlFile != null || (cfg.database.user == user && cfg.database.name == user);
          message = "services.islet.database: with createLocally, user and name must both be \"${user}\" (peer authentication matches the service's user, and the role owns the database of its name).";
        }
        {
          assertion = cfg.database.createLocally || cfg.database.urlFile != null || cfg.database.host != null;
          message = "services.islet.database: set createLocally, host or urlFile.";
        }
        {
          assertion = builtins.all (f: !(lib.hasPrefix builtins.storeDir (toString f))) secretFiles;
          message = "services.islet: a secret file is in the Nix store, readable by every user; give its path as a string outside the store.";
        }
      ];

      environment.systemPackages = [ adminCommand ];

      systemd.services.islet = {
        description = "Islet, a single-user fediverse server";
        wantedBy = [ "multi-user.target" ];
        wants = [ "network-online.target" ];
        after = [ "network-online.target" ];
        inherit environment;
        serviceConfig = identity // {
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

    (mkIf (cfg.database.createLocally && cfg.database.urlFile == null) {
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

    (mkIf cfg.nginx.enable {
      services.nginx = {
        enable = true;
        virtualHosts =
          {
            ${webDomain} =
              import ./nginx-vhost.nix {
                address = if cfg.bind == "0.0.0.0" then "127.0.0.1" else cfg.bind;
                inherit (cfg) port streamingPort;
                mediaDir = if cfg.nginx.serveMediaFromDisk then "${stateDir}/media" else null;
              }
              // {
                enableACME = cfg.nginx.enableACME;
                forceSSL = cfg.nginx.enableACME;
              };
          }
          // optionalAttrs (webDomain != cfg.localDomain) {
            # Merges into your own virtual host for the handle domain, if any.
            ${cfg.localDomain} = {
              enableACME = mkDefault cfg.nginx.enableACME;
              forceSSL = mkDefault cfg.nginx.enableACME;
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
        if cfg.nginx.enable then
          [
            80
            443
          ]
        else
          [ cfg.port ] ++ optional (cfg.streamingPort != null) cfg.streamingPort;
    })
  ]);
}
