# Evaluates deploy/nixos/module.nix without nixpkgs: the stand-in `lib` and
# `pkgs` of stubs.nix, and a miniature of the module system (option defaults
# overlaid with `settings`, the module's renamed and removed options applied
# to them, mkIf and mkMerge resolved). Returns plain data for
# test/deploy/nixos.test.ts to check.
{
  module,
  settings ? { },
  # The rest of the system's configuration, for the parts the module reads
  # or adds to (services.postgresql).
  system ? { },
}:
let
  stubs = import ./stubs.nix;
  inherit (stubs) isType lib pkgs;

  # Option declarations → their defaults, with `settings` laid over them.
  defaults =
    options:
    if isType "option" options then
      options.default or null
    else
      builtins.mapAttrs (_: defaults) options;
  overlay =
    base: top:
    if builtins.isAttrs base && builtins.isAttrs top && !(top ? outPath) then
      base // builtins.mapAttrs (name: value: if base ? ${name} then overlay base.${name} value else value) top
    else
      top;

  # mkIf / mkMerge → plain values; attribute sets merged, lists joined.
  merge =
    a: b:
    if builtins.isAttrs a && builtins.isAttrs b && !(a ? outPath) then
      a // builtins.mapAttrs (name: value: if a ? ${name} then merge a.${name} value else value) b
    else if builtins.isList a && builtins.isList b then
      a ++ b
    else
      b;
  resolve =
    value:
    if isType "if" value then
      (if value.condition then resolve value.content else { })
    else if isType "merge" value then
      builtins.foldl' merge { } (map resolve value.contents)
    else if builtins.isAttrs value && !(value ? outPath) then
      builtins.mapAttrs (_: resolve) value
    else
      value;

  # Option names, dotted, in declaration tree order.
  optionNames =
    prefix: options:
    if isType "option" options then
      [ prefix ]
    else
      builtins.concatLists (
        map (name: optionNames (if prefix == "" then name else "${prefix}.${name}") options.${name}) (
          builtins.attrNames options
        )
      );

  declaration = module {
    config = throw "options must not depend on config";
    inherit lib pkgs;
  };
  declared = declaration.options.services.islet;
  imports = declaration.imports or [ ];

  # Paths inside services.islet.
  local = path: assert builtins.genList (i: builtins.elemAt path i) 2 == [ "services" "islet" ]; builtins.tail (builtins.tail path);
  show = path: builtins.concatStringsSep "." ([ "services" "islet" ] ++ path);
  hasPath = path: attrs: path == [ ] || (builtins.isAttrs attrs && attrs ? ${builtins.head path} && hasPath (builtins.tail path) attrs.${builtins.head path});
  getPath = path: attrs: if path == [ ] then attrs else getPath (builtins.tail path) attrs.${builtins.head path};
  setPath = path: value: if path == [ ] then value else { ${builtins.head path} = setPath (builtins.tail path) value; };
  removePath =
    path: attrs:
    if builtins.length path == 1 then
      builtins.removeAttrs attrs path
    else
      attrs // { ${builtins.head path} = removePath (builtins.tail path) attrs.${builtins.head path}; };

  renames = map (r: { from = local r.from; to = local r.to; }) (builtins.filter (isType "renamed") imports);
  removals = map (r: r // { path = local r.path; }) (builtins.filter (isType "removed") imports);

  # Settings under a renamed option's old name move to its new one, with
  # the warning NixOS gives.
  renamedSettings = builtins.foldl' (
    acc: rename:
    if hasPath rename.from acc then
      overlay (removePath rename.from acc) (setPath rename.to (getPath rename.from acc))
    else
      acc
  ) settings renames;
  renameWarnings = map (r: "The option `${show r.from}' has been renamed to `${show r.to}'.") (
    builtins.filter (r: hasPath r.from settings) renames
  );
  removedSettings = map (r: "The option definition `${show r.path}' no longer has any effect; please remove it.\n${r.instructions}") (
    builtins.filter (r: hasPath r.path settings) removals
  );
  renameTargets = map (r: r.to) renames;

  cfg = overlay (defaults declared) (builtins.foldl' (acc: r: if hasPath r.path acc then removePath r.path acc else acc) renamedSettings removals);

  evaluated = module {
    config = {
      services.islet = cfg;
      services.postgresql = system.services.postgresql or { };
      systemd.package = stubs.storePath "systemd";
    };
    inherit lib pkgs;
  };

  result = resolve evaluated.config;
  service = result.systemd.services.islet or { };
in
{
  options = optionNames "" declared;
  renamedOptions = builtins.listToAttrs (map (r: { name = builtins.concatStringsSep "." r.from; value = builtins.concatStringsSep "." r.to; }) renames);
  removedOptions = map (r: builtins.concatStringsSep "." r.path) removals;
  # Every renamed option's new name is declared.
  renameTargetsDeclared = builtins.all (path: hasPath path declared) renameTargets;
  failedAssertions = removedSettings ++ map (a: a.message) (builtins.filter (a: !a.assertion) (result.assertions or [ ]));
  warnings = renameWarnings ++ (result.warnings or [ ]);
  environment = service.environment or { };
  serviceConfig = builtins.mapAttrs (_: v: if builtins.isAttrs v && v ? outPath then toString v else v) (
    service.serviceConfig or { }
  );
  after = service.after or [ ];
  requires = service.requires or [ ];
  postgresql =
    if result ? services.postgresql then merge result.services.postgresql (system.services.postgresql or { }) else null;
  nginxVirtualHosts = builtins.mapAttrs (_: vhost: {
    inherit (vhost) locations;
    enableACME = vhost.enableACME or null;
    forceSSL = vhost.forceSSL or null;
    extraConfig = vhost.extraConfig or "";
  }) (result.services.nginx.virtualHosts or { });
  firewall = result.networking.firewall.allowedTCPPorts or [ ];
  adminCommand = map (p: p.text) (result.environment.systemPackages or [ ]);
  launcher = service.serviceConfig.ExecStart or "";
  package = toString cfg.package;
  # services.islet as the module saw it, for the host of a container.
  config = cfg;
}
