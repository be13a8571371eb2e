# A system meant to run as a container itself (boot.isContainer), with
# systemd units written in several styles, a user service, sysctl-free
# networking and a tiny environment.
{ config, lib, pkgs, ... }:
{
  boot.isContainer = true;
  networking.hostName = "guest";
  networking.useDHCP = false;
  services.nscd.enable = false;
  system.nssModules = lib.mkForce [ ];
  documentation.enable = false;
  systemd.services.worker = {
    description = "background worker";
    wantedBy = [ "multi-user.target" ];
    path = [ pkgs.curl pkgs.gnugrep ];
    environment = { MODE = "batch"; RETRIES = "3"; };
    preStart = "mkdir -p /var/lib/worker";
    script = ''
      while true; do curl -s http://localhost/ | grep -c . || true; sleep 60; done
    '';
    serviceConfig = { Restart = "always"; RestartSec = 5; User = "worker"; StateDirectory = "worker"; };
    unitConfig.ConditionPathExists = "/etc/worker.conf";
  };
  systemd.user.services.hello = { wantedBy = [ "default.target" ]; serviceConfig.ExecStart = "${pkgs.hello}/bin/hello"; };
  systemd.paths.trigger = { wantedBy = [ "multi-user.target" ]; pathConfig.PathChanged = "/etc/worker.conf"; };
  users.users.worker = { isSystemUser = true; group = "worker"; };
  users.groups.worker = { };
  environment.etc."worker.conf".text = lib.generators.toINI { } { main = { threads = 4; name = "w"; }; };
}
