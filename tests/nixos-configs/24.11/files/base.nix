# Shared settings imported by ../mirrored-grub.nix (a relative import), with
# what this tree needs: no NixOS manual (no doc/ here) and no shellcheck
# (no Haskell packages here), skipped as on platforms without GHC.
{ lib, ... }:
{
  documentation.nixos.enable = false;
  nixpkgs.overlays = [ (final: prev: { shellcheck-minimal = { compiler.meta.platforms = [ ]; }; }) ];
  system.stateVersion = lib.mkDefault "24.11";
  time.timeZone = lib.mkDefault "Etc/UTC";
  users.users.admin = {
    isNormalUser = true;
    extraGroups = [ "wheel" ];
    openssh.authorizedKeys.keyFiles = [ ./admin.pub ];
  };
}
