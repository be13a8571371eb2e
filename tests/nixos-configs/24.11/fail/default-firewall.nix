# NixOS 24.11 config that keeps the default firewall: nixos-firewall-tool's
# shellcheck needs Haskell packages, which this tree lacks; see ../../README.md
{ ... }: {
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };
  documentation.nixos.enable = false;
  nixpkgs.hostPlatform = "x86_64-linux";
  system.stateVersion = "24.11";
}
