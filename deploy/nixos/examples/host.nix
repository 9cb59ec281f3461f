# Islet on a NixOS host, with nginx, Let's Encrypt and a local PostgreSQL.
#
# In your system's flake.nix:
#   inputs.islet.url = "git+https://your.git.host/islet?dir=deploy/nixos";
#   nixosConfigurations.myhost = nixpkgs.lib.nixosSystem {
#     modules = [ islet.nixosModules.default ./host.nix ];
#   };
#
# The secret files are any root-only files on the machine (0600), made by
# hand or decrypted by sops-nix or agenix:
#   openssl rand -hex 64 | install -D -m 0600 /dev/stdin /var/lib/secrets/islet-secret-key-base
#
# Then, as root: islet setup; islet doctor; islet backup islet.tar
#
# For the embedded database instead of PostgreSQL: database.embedded = true.
{ ... }:
{
  services.islet = {
    enable = true;
    localDomain = "example.com";
    secretKeyBaseFile = "/var/lib/secrets/islet-secret-key-base";
    smtp = {
      host = "smtp.example.net";
      tls = true; # port 465
      user = "postmaster@example.com";
      passwordFile = "/var/lib/secrets/islet-smtp-password";
      fromAddress = "Islet <islet@example.com>";
    };
    # database.createLocally = true is the default: PostgreSQL on this
    # machine, unix socket and peer authentication, no password.
    configureNginx = true; # and Let's Encrypt
    openFirewall = true;
  };

  security.acme = {
    acceptTerms = true;
    defaults.email = "admin@example.com";
  };
}
