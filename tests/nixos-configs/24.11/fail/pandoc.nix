# NixOS 24.11 config that reaches a file the tree lacks (hackage-packages.nix,
# through pandoc); see ../../README.md
{ pkgs, ... }: {
  boot.loader.grub.device = "/dev/sda";
  fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };
  networking.firewall.enable = false;
  documentation.nixos.enable = false;
  nixpkgs.hostPlatform = "x86_64-linux";
  system.stateVersion = "24.11";
  environment.systemPackages = [ pkgs.pandoc ];
}
