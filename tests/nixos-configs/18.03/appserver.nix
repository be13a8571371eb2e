# NixOS 18.03: an application server whose own module (options with types,
# defaults computed from other options, mkIf/mkMerge/mkDefault/mkForce/
# mkBefore) expands into nginx virtual hosts with several locations,
# PostgreSQL databases and roles (authentication, initial script) and one
# systemd service per application.
{ config, lib, pkgs, ... }:
with lib;
let
  cfg = config.apps;
  appModule = { name, ... }: {
    options = {
      port = mkOption { type = types.int; };
      hostName = mkOption { type = types.str; default = "${name}.${cfg.domain}"; };
      withDatabase = mkOption { type = types.bool; default = false; };
    };
  };
in
{
  options.apps = {
    domain = mkOption { type = types.str; default = "apps.example.org"; };
    instances = mkOption { type = types.attrsOf (types.submodule appModule); default = { }; };
  };

  config = mkMerge [
    {
      boot.loader.grub.device = "/dev/vda";
      fileSystems."/".device = "/dev/vda1";
      networking.hostName = mkDefault "app18";
      networking.firewall.allowedTCPPorts = [ 80 ];
      services.openssh.enable = true;
      services.openssh.permitRootLogin = mkForce "without-password";

      apps.instances = {
        blog = { port = 9001; withDatabase = true; };
        shop = { port = 9002; withDatabase = true; hostName = "shop.example.com"; };
        docs = { port = 9003; };
      };
      environment.systemPackages = [ pkgs.git ];
    }
    (mkIf (cfg.instances != { }) {
      services.nginx = {
        enable = true;
        appendHttpConfig = mkBefore "server_names_hash_bucket_size 64;";
        virtualHosts = mapAttrs' (name: app: nameValuePair app.hostName {
          locations."/".proxyPass = "http://127.0.0.1:${toString app.port}";
          locations."/health".extraConfig = "return 200 'ok';";
        }) cfg.instances;
      };
      services.postgresql = {
        enable = true;
        package = pkgs.postgresql96;
        authentication = mkForce ''
          local all all trust
          host all all 127.0.0.1/32 md5
        '';
        initialScript = pkgs.writeText "init.sql" (concatStrings (mapAttrsToList (name: app:
          optionalString app.withDatabase "CREATE ROLE ${name} LOGIN; CREATE DATABASE ${name} OWNER ${name};\n")
          cfg.instances));
      };
      systemd.services = mapAttrs' (name: app: nameValuePair "app-${name}" {
        wantedBy = [ "multi-user.target" ];
        after = optional app.withDatabase "postgresql.service";
        environment.PORT = toString app.port;
        serviceConfig = {
          ExecStart = "${pkgs.python3}/bin/python3 -m http.server ${toString app.port}";
          DynamicUser = true;
          Restart = "always";
        };
      }) cfg.instances;
    })
  ];
}
