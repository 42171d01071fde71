; Inno Setup script: a per-user install of the Fieldapp desktop bundle, no admin rights needed.
;
; Built on a Windows machine (NOT on the Linux build machines), after `make package` has
; produced dist\fieldapp\ there:
;     iscc /DAppVersion=0.1.0 packaging\windows\fieldapp.iss
; Output: dist\installer\fieldapp-setup-<version>.exe. See INSTALLING.md for the silent flags.
;
; To preset settings for everyone who installs this package, put a fieldapp.toml (see
; resources\site-config.example.toml) next to this script before compiling: it is
; installed beside fieldapp.exe, where the app looks for it.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
; The AppId identifies the product for upgrades and uninstall: never change it.
AppId={{6F1C2B7E-3D8A-4C55-9B0E-2F7A9D41C3E8}
AppName=Fieldapp
AppVersion={#AppVersion}
AppVerName=Fieldapp {#AppVersion}
AppPublisher=Fieldapp
; Per-user: installs into the user's own profile, so no administrator rights and no UAC prompt.
PrivilegesRequired=lowest
DefaultDirName={localappdata}\Programs\Fieldapp
DisableDirPage=yes
DisableProgramGroupPage=yes
DefaultGroupName=Fieldapp
UninstallDisplayName=Fieldapp
UninstallDisplayIcon={app}\fieldapp.exe
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; An upgrade closes a running Fieldapp first (its database is closed cleanly on exit).
CloseApplications=yes
RestartApplications=no
OutputDir=..\..\dist\installer
OutputBaseFilename=fieldapp-setup-{#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
SetupLogging=yes

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Files]
; The whole PyInstaller onedir bundle. Upgrades replace it; user data lives elsewhere.
Source: "..\..\dist\fieldapp\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
; Optional site configuration preset by IT (see the header).
Source: "fieldapp.toml"; DestDir: "{app}"; Flags: ignoreversion skipifsourcedoesntexist

[InstallDelete]
; Files of an older version that the new bundle no longer has would otherwise linger.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\Fieldapp"; Filename: "{app}\fieldapp.exe"
Name: "{autodesktop}\Fieldapp"; Filename: "{app}\fieldapp.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\fieldapp.exe"; Description: "Start Fieldapp"; Flags: nowait postinstall skipifsilent

; Uninstalling removes the program only. The officer's data (%LOCALAPPDATA%\Fieldapp\Fieldapp:
; database, photos, settings, logs) is deliberately kept: it may hold visits not yet sent.
; INSTALLING.md says how to wipe it safely.
