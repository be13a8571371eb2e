# A cloud VM: a relative import of its hardware config (which pulls a profile
# through modulesPath), files next to the config copied into the store
# (authorized key files, /etc sources), the minimal/headless profiles,
# prometheus with exporters, a stateVersion.
{ config, lib, pkgs, modulesPath, ... }:
{
  imports = [ ./files/hardware.nix (modulesPath + "/profiles/headless.nix") (modulesPath + "/profiles/minimal.nix") ];
  boot.loader.grub.device = "/dev/vda";
  networking.hostName = "vm-7";
  users.users.erin = {
    isNormalUser = true;
    openssh.authorizedKeys.keyFiles = [ ./files/erin.pub ];
  };
  environment.etc."motd".source = ./files/motd;
  environment.etc."issue.d/config-path".text = "built from ${./files/motd}\n";
  services.openssh.enable = true;
  services.prometheus = {
    enable = true;
    scrapeConfigs = [ { job_name = "node"; static_configs = [ { targets = [ "localhost:9100" ]; } ]; } ];
    exporters.node = { enable = true; enabledCollectors = [ "systemd" "processes" ]; };
  };
  services.grafana = { enable = true; addr = "0.0.0.0"; port = 3000; domain = "grafana.example.org"; };
  system.stateVersion = "20.09";
}
