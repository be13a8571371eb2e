# Module-system features: an imported module declaring its own options
# (mkOption with types, mkIf, mkMerge, mkDefault, mkForce, mkOrder via
# mkBefore), an overlay adding a package, nixpkgs.config, a specialisation.
{ config, lib, pkgs, ... }:
let
  myModule = { config, lib, pkgs, ... }:
    let cfg = config.services.greeter;
    in {
      options.services.greeter = {
        enable = lib.mkEnableOption "the greeter service";
        greeting = lib.mkOption { type = lib.types.str; default = "hello"; };
        port = lib.mkOption { type = lib.types.port; default = 7000; };
        names = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; };
      };
      config = lib.mkIf cfg.enable (lib.mkMerge [
        {
          systemd.services.greeter = {
            wantedBy = [ "multi-user.target" ];
            script = "exec ${pkgs.greeter}/bin/greeter ${toString cfg.port} ${lib.escapeShellArgs cfg.names}";
            environment.GREETING = cfg.greeting;
          };
        }
        (lib.mkIf (cfg.port < 1024) { networking.firewall.allowedTCPPorts = [ cfg.port ]; })
      ]);
    };
in
{
  imports = [ myModule ];
  nixpkgs.overlays = [
    (self: super: {
      greeter = self.writeShellScriptBin "greeter" ''
        echo "$GREETING from port $1"
      '';
      hello = super.hello.overrideAttrs (old: { pname = "hello-patched"; doCheck = false; });
    })
  ];
  nixpkgs.config.allowUnfree = true;
  boot.loader.grub.device = "/dev/vda";
  fileSystems."/" = { device = "/dev/vda1"; fsType = "ext4"; };
  networking.hostName = lib.mkDefault "modular";
  services.greeter = { enable = true; greeting = "hi"; port = 80; names = [ "a b" "c" ]; };
  services.openssh.enable = true;
  services.openssh.forwardX11 = lib.mkForce false;
  environment.systemPackages = lib.mkBefore [ pkgs.hello pkgs.greeter ];
  environment.shellAliases = { ll = "ls -l"; };
  specialisation.nossh.configuration = {
    services.openssh.enable = lib.mkForce false;
    networking.hostName = "modular-nossh";
  };
}
