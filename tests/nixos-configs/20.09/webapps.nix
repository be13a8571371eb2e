# Web applications with their own module machinery: Apache httpd with PHP,
# nextcloud (on nginx), gitea, ACME certificates, a mail server (postfix +
# dovecot), memcached.
{ config, lib, pkgs, ... }:
{
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };
  networking.hostName = "apps";
  networking.domain = "example.com";
  security.acme = { acceptTerms = true; email = "admin@example.com"; };
  services.nextcloud = {
    enable = true;
    hostName = "cloud.example.com";
    https = true;
    config = { adminpassFile = "/var/lib/nextcloud-admin-pass"; dbtype = "pgsql"; dbhost = "/run/postgresql"; };
  };
  services.nginx.virtualHosts."cloud.example.com" = { forceSSL = true; enableACME = true; };
  services.postgresql.enable = true;
  services.gitea = { enable = true; domain = "git.example.com"; rootUrl = "https://git.example.com/"; database.type = "postgres"; };
  services.httpd = {
    enable = true;
    adminAddr = "admin@example.com";
    enablePHP = true;
    virtualHosts."legacy.example.com" = { documentRoot = "/srv/legacy"; listen = [ { port = 8088; } ]; };
  };
  services.postfix = { enable = true; hostname = "mail.example.com"; origin = "example.com"; destination = [ "example.com" ]; };
  services.dovecot2 = { enable = true; enableImap = true; enablePop3 = false; };
  services.memcached.enable = true;
}
