; Inno Setup 6 script: wraps the PyInstaller one-folder build (dist\moments-desktop\) in an installer.
; NOT EXERCISED in this repo's environment (Linux only); written to run on the windows-latest CI runner:
;   python packaging\build.py
;   iscc /DAppVersion=0.1.0 packaging\windows\moments-desktop.iss
; Output: dist\moments-desktop-0.1.0-setup.exe
; Sign both the app exe (before this step) and the setup exe (after) with signtool; an unsigned
; --onedir build inside an installer is what keeps antivirus false positives down (design.md).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Moments Desktop"
#define AppExe "moments-desktop.exe"
#define SrcDir "..\..\dist\moments-desktop"

[Setup]
; Keep this AppId forever: upgrades and uninstall find the installation by it.
AppId={{6B3F8E2A-4C1D-4E7B-9A55-2D9F0C7E41B3}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Moments Desktop developers
DefaultDirName={autopf}\Moments Desktop
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-user install by default (no UAC prompt); the dialog lets admins install for all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0.17763
OutputDir=..\..\dist
OutputBaseFilename=moments-desktop-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\moments-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole bundle; ignoreversion because PyInstaller's DLLs have no meaningful version info.
Source: "{#SrcDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade must not leave stale modules from the previous bundle next to the new ones.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; No [UninstallDelete] for user data: %APPDATA%\moments-desktop, %LOCALAPPDATA%\moments-desktop and
; Credential Manager entries ("moments-desktop") stay, like ~/.config on Linux.
