# NixOS 24.11 config that the reference rejects (a user both normal and
# system, an assertion); see ../../README.md
{ ... }: {
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };
  networking.firewall.enable = false;
  documentation.nixos.enable = false;
  nixpkgs.hostPlatform = "x86_64-linux";
  system.stateVersion = "24.11";
  users.users.frank = { isNormalUser = true; isSystemUser = true; group = "users"; };
}
