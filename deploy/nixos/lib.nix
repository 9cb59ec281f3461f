# Helpers for a host that runs Islet in a NixOS container, exported by the
# flake as `lib`. Each takes the container's own settings, so that its port
# and secret paths are written once, in the container's services.islet:
#
#   containers.islet.bindMounts = islet.lib.secretBindMounts config.containers.islet.config.services.islet;
#   services.nginx.virtualHosts."example.com" =
#     islet.lib.nginxVirtualHost config.containers.islet.config.services.islet;
{
  # nginx in front of Islet (deploy/nixos/nginx-vhost.nix).
  nginxVirtualHost = import ./nginx-vhost.nix;

  # Where Islet listens with services.islet.enableUnixSocket (SOCKET).
  socketPath = "/run/islet/web.socket";

  # The secret files services.islet reads, as credential ID → path (the
  # module loads each with LoadCredential=ID:path).
  secretFiles =
    cfg:
    let
      pairs = [
        {
          name = "SECRET_KEY_BASE";
          path = cfg.secretKeyBaseFile;
        }
        {
          name = "VAPID_PRIVATE_KEY";
          path = cfg.vapidPrivateKeyFile;
        }
        {
          name = "VAPID_PUBLIC_KEY";
          path = cfg.vapidPublicKeyFile;
        }
        {
          name = "DATABASE_URL";
          path = cfg.database.urlFile;
        }
        {
          name = "DATABASE_PASSWORD";
          path = if cfg.database.urlFile == null then cfg.database.passwordFile else null;
        }
        {
          name = "SMTP_PASSWORD";
          path = cfg.smtp.passwordFile;
        }
      ];
    in
    builtins.filter (pair: pair.path != null) pairs;

  # containers.<name>.bindMounts for every secret file the container's
  # services.islet names: the host's file, read-only, at the same path.
  secretBindMounts =
    cfg:
    builtins.listToAttrs (
      map (pair: {
        name = toString pair.path;
        value = {
          hostPath = toString pair.path;
          isReadOnly = true;
        };
      }) ((import ./lib.nix).secretFiles cfg)
    );
}
