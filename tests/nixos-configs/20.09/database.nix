# A database host: PostgreSQL 11 with custom settings and authentication,
# MariaDB, users and groups with fixed ids, zsh as a login shell, sudo rules.
{ config, lib, pkgs, ... }:
{
  boot.loader.grub.device = "/dev/vda";
  fileSystems."/" = { device = "/dev/vda1"; fsType = "ext4"; };
  fileSystems."/var/lib/postgresql" = { device = "/dev/vdb"; fsType = "xfs"; options = [ "noatime" ]; };
  networking.hostName = "db1";
  services.postgresql = {
    enable = true;
    package = pkgs.postgresql_11;
    enableTCPIP = true;
    port = 5433;
    authentication = lib.mkForce ''
      local all all trust
      host all all 10.0.0.0/8 md5
    '';
    extraConfig = "shared_buffers = 512MB\nmax_connections = 200\n";
    initialScript = pkgs.writeText "init.sql" "CREATE ROLE reporting;";
    ensureDatabases = [ "shop" "metrics" ];
  };
  services.mysql = {
    enable = true;
    package = pkgs.mariadb;
    ensureDatabases = [ "wiki" ];
    ensureUsers = [ { name = "wiki"; ensurePermissions = { "wiki.*" = "ALL PRIVILEGES"; }; } ];
  };
  services.postgresqlBackup = { enable = true; databases = [ "shop" ]; startAt = "*-*-* 03:15:00"; };
  programs.zsh.enable = true;
  users.mutableUsers = false;
  users.groups.dba = { gid = 2000; };
  users.groups.deploy = { };
  users.users.carol = {
    isNormalUser = true;
    uid = 1500;
    group = "dba";
    extraGroups = [ "wheel" "deploy" ];
    shell = pkgs.zsh;
    hashedPassword = "$6$abcdefgh$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890123456789ab";
    home = "/home/carol";
    description = "Carol the DBA";
  };
  users.users.backup = { isSystemUser = true; group = "deploy"; home = "/var/backup"; createHome = true; };
  security.sudo.extraRules = [
    { users = [ "carol" ]; commands = [ { command = "${pkgs.systemd}/bin/systemctl restart postgresql"; options = [ "NOPASSWD" ]; } ]; }
  ];
  environment.systemPackages = with pkgs; [ pgcli mycli ];
}
