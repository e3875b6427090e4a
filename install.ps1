# venvoy installer and updater for Windows (PowerShell 5.1 or 7).
#
#   iwr -useb https://github.com/zaphodbeeblebrox3rd/venvoy/releases/latest/download/install.ps1 | iex
#
# Downloads venvoy-x86_64-pc-windows-msvc.exe and SHA256SUMS from the release folder,
# checks the checksum, installs venvoy.exe to %LOCALAPPDATA%\venvoy\bin, and adds that
# folder to your user PATH. Running it again updates venvoy. It never asks questions.
#
# Environment variables:
#   VENVOY_RELEASE_URL      release folder (default: the latest GitHub release)
#   VENVOY_INSTALL_DIR      where venvoy.exe goes (default: %LOCALAPPDATA%\venvoy\bin)
#   VENVOY_NO_MODIFY_PATH   1: leave the user PATH alone
#
# The whole script is one script block, so a partial download fails to parse and runs
# nothing. It cannot be tested on the project's Linux machines: see docs/install.md.

& {
  Set-StrictMode -Version 2.0
  $ErrorActionPreference = 'Stop'
  $ProgressPreference = 'SilentlyContinue'  # the progress bar makes downloads crawl on 5.1

  function Fail([string]$Message, [string]$Hint = '') {
    Write-Host "venvoy-install: error: $Message" -ForegroundColor Red
    if ($Hint) { Write-Host "hint: $Hint" }
    throw 'venvoy was not installed'
  }

  $base = 'https://github.com/zaphodbeeblebrox3rd/venvoy/releases/latest/download'
  if ($env:VENVOY_RELEASE_URL) { $base = $env:VENVOY_RELEASE_URL.TrimEnd('/') }
  $dir = Join-Path $env:LOCALAPPDATA 'venvoy\bin'
  if ($env:VENVOY_INSTALL_DIR) { $dir = $env:VENVOY_INSTALL_DIR.TrimEnd('\') }
  $asset = 'venvoy-x86_64-pc-windows-msvc.exe'
  $dest = Join-Path $dir 'venvoy.exe'

  if (-not [Environment]::Is64BitOperatingSystem) {
    Fail 'venvoy needs 64-bit Windows' 'on 32-bit Windows, use WSL2 with the Linux installer'
  }
  # Older PowerShell may not offer TLS 1.2 by default, which GitHub requires.
  [Net.ServicePointManager]::SecurityProtocol =
    [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12

  $tmp = Join-Path ([IO.Path]::GetTempPath()) ("venvoy-" + [Guid]::NewGuid().ToString('N'))
  New-Item -ItemType Directory -Path $tmp | Out-Null
  try {
    Write-Host "venvoy: installing from $base"
    try {
      Invoke-WebRequest -UseBasicParsing -Uri "$base/VERSION" -OutFile "$tmp\VERSION"
      Invoke-WebRequest -UseBasicParsing -Uri "$base/SHA256SUMS" -OutFile "$tmp\SHA256SUMS"
    } catch {
      Fail "could not download the release from ${base}: $($_.Exception.Message)" 'check the network, or set VENVOY_RELEASE_URL to a mirror'
    }
    $version = (Get-Content "$tmp\VERSION" -TotalCount 1).Trim()
    if ($version -notmatch '^\d+\.\d+\.\d+') { Fail "$base/VERSION does not hold a version" }

    $expected = $null
    foreach ($line in Get-Content "$tmp\SHA256SUMS") {
      if ($line -match '^([0-9a-fA-F]{64}) [ *](.+)$' -and $Matches[2] -eq $asset) {
        $expected = $Matches[1].ToLower()
        break
      }
    }
    if (-not $expected) { Fail "release $version has no $asset in its SHA256SUMS" }

    if ((Test-Path $dest) -and ((Get-FileHash -Algorithm SHA256 $dest).Hash.ToLower() -eq $expected)) {
      Write-Host "venvoy $version is already installed at $dest"
    } else {
      Write-Host "Downloading $asset ($version)"
      Invoke-WebRequest -UseBasicParsing -Uri "$base/$asset" -OutFile "$tmp\$asset"
      $actual = (Get-FileHash -Algorithm SHA256 "$tmp\$asset").Hash.ToLower()
      if ($actual -ne $expected) {
        Fail "checksum mismatch for ${asset}: SHA256SUMS says $expected, the download is $actual; nothing was installed" 'the download was corrupted or tampered with; try again, or report it'
      }
      # The new binary must run before it replaces anything.
      try {
        $said = [string](& "$tmp\$asset" --version 2>&1 | Select-Object -Last 1)
        $ok = ($LASTEXITCODE -eq 0) -and ($said.Trim() -eq $version)
      } catch {
        $said = $_.Exception.Message
        $ok = $false
      }
      if (-not $ok) {
        Fail "the downloaded venvoy does not run here (it said: $said); nothing was installed"
      }
      New-Item -ItemType Directory -Force -Path $dir | Out-Null
      # A running venvoy.exe cannot be overwritten, but it can be renamed away.
      if (Test-Path "$dest.old") { Remove-Item -Force "$dest.old" -ErrorAction SilentlyContinue }
      if (Test-Path $dest) { Move-Item -Force $dest "$dest.old" }
      Move-Item -Force "$tmp\$asset" $dest
      Remove-Item -Force "$dest.old" -ErrorAction SilentlyContinue
      Write-Host "Installed venvoy $version at $dest"
    }
  } finally {
    Remove-Item -Recurse -Force $tmp -ErrorAction SilentlyContinue
  }

  # The user PATH, read and written unexpanded so %VARIABLES% in it survive.
  if ($env:VENVOY_NO_MODIFY_PATH -ne '1') {
    $key = Get-Item -Path 'HKCU:\Environment'
    $userPath = [string]$key.GetValue('Path', '', 'DoNotExpandEnvironmentNames')
    $parts = @($userPath -split ';' | Where-Object { $_ })
    if (-not ($parts | Where-Object { $_.TrimEnd('\') -ieq $dir })) {
      Set-ItemProperty -Path 'HKCU:\Environment' -Name 'Path' -Type ExpandString -Value (($parts + $dir) -join ';')
      # Tell running programs (Explorer, new terminals) that the environment changed.
      [Environment]::SetEnvironmentVariable('VENVOY_INSTALL_PING', '1', 'User')
      [Environment]::SetEnvironmentVariable('VENVOY_INSTALL_PING', $null, 'User')
      Write-Host "Added $dir to your user PATH"
    }
  } else {
    Write-Host "Your PATH was not changed (VENVOY_NO_MODIFY_PATH); add $dir to it to run venvoy."
  }
  if (-not (($env:Path -split ';') | Where-Object { $_.TrimEnd('\') -ieq $dir })) {
    $env:Path = "$dir;$env:Path"
  }

  Write-Host ''
  & $dest runtime-info
  if ($LASTEXITCODE -eq 3) {
    Write-Host ''
    Write-Host 'venvoy is installed, but it needs a container runtime to build and run environments:'
    Write-Host '  install Docker Desktop with the WSL 2 backend (winget install Docker.DockerDesktop),'
    Write-Host '  start it, then run: venvoy runtime-info'
  }
  Write-Host ''
  Write-Host 'Done. Open a new terminal to use venvoy. vup (the venv function) needs bash: use it in WSL.'
}
