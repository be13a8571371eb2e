# A build/CI host: docker and libvirtd, nix settings (gc, substituters,
# sandbox), cron and systemd timers, /etc files, tmpfiles, journald tweaks.
{ config, lib, pkgs, ... }:
{
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };
  networking.hostName = "ci";
  virtualisation.docker = { enable = true; autoPrune.enable = true; storageDriver = "overlay2"; };
  virtualisation.libvirtd.enable = true;
  nix = {
    useSandbox = true;
    maxJobs = 4;
    buildCores = 2;
    gc = { automatic = true; dates = "weekly"; options = "--delete-older-than 14d"; };
    binaryCaches = [ "https://cache.example.org" ];
    binaryCachePublicKeys = [ "cache.example.org-1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" ];
    trustedUsers = [ "root" "@wheel" ];
    extraOptions = "keep-outputs = true";
  };
  services.cron = { enable = true; systemCronJobs = [ "*/5 * * * * root date >> /tmp/cron.log" ]; };
  systemd.services.cleanup = {
    description = "clean the workspace";
    serviceConfig = { Type = "oneshot"; ExecStart = "${pkgs.coreutils}/bin/rm -rf /var/lib/ci/tmp"; };
  };
  systemd.timers.cleanup = { wantedBy = [ "timers.target" ]; timerConfig.OnCalendar = "daily"; };
  systemd.tmpfiles.rules = [ "d /var/lib/ci 0755 root root -" ];
  services.journald.extraConfig = "SystemMaxUse=500M";
  environment.etc."ci/config.json".text = builtins.toJSON { workers = 4; labels = [ "nixos" "docker" ]; };
  environment.etc."ci/motd".source = pkgs.writeText "motd" "welcome to ci\n";
  environment.variables = { CI_HOST = "1"; };
  users.users.runner = { isNormalUser = true; extraGroups = [ "docker" "libvirtd" ]; };
  services.openssh.enable = true;
}
