# venvoy installer and updater for Windows (PowerShell 5.1 or 7).
#
#   iwr -useb https://github.com/zaphodbeeblebrox3rd/venvoy/releases/latest/download/install.ps1 | iex
#
# Downloads SHA256SUMS and SHA256SUMS.sig from the release folder, checks the signature
# with the venvoy release key written below, then downloads VERSION and
# venvoy-x86_64-pc-windows-msvc.exe and checks them against SHA256SUMS, installs venvoy.exe
# to %LOCALAPPDATA%\venvoy\bin, and adds that folder to your user PATH. Running it again
# updates venvoy. It never asks questions.
#
# Environment variables:
#   VENVOY_RELEASE_URL      release folder: https://, file:// or a path (default: the latest
#                           GitHub release)
#   VENVOY_INSTALL_DIR      where venvoy.exe goes (default: %LOCALAPPDATA%\venvoy\bin)
#   VENVOY_NO_MODIFY_PATH   1: leave the user PATH alone
#   VENVOY_INSECURE_HTTP    1: accept a plain http:// release folder
#   VENVOY_ALLOW_UNSIGNED   1: install without checking the signature (see below)
#   VENVOY_RELEASE_PUBKEY   a PEM file to trust instead of the built-in key (weakens the check)
#
# PowerShell and .NET cannot check an Ed25519 signature by themselves (.NET has no Ed25519).
# This script therefore uses an OpenSSL 3 if it finds one: openssl.exe on PATH, or the one
# Git for Windows or the Win64 OpenSSL installer put in Program Files. WITHOUT ONE IT
# REFUSES to install and says how to get one; VENVOY_ALLOW_UNSIGNED=1 installs anyway,
# checking the SHA-256 only against a SHA256SUMS from the same server as the binary, which
# catches a broken download but not a tampered mirror.
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

  function Warn([string]$Message) {
    Write-Host "venvoy-install: warning: $Message" -ForegroundColor Yellow
  }

  # The venvoy release key (src/release/key.ts holds the same; docs/install.md).
  $releaseKey = @'
-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAtMYAqTdWnYHBRMd42Z3mWMpyIOuJ3F94NMMaWQHnEPw=
-----END PUBLIC KEY-----
'@

  # An OpenSSL 3 or later (it checks Ed25519 signatures), or $null.
  function Find-OpenSsl {
    $candidates = @()
    $cmd = Get-Command openssl.exe -ErrorAction SilentlyContinue
    if ($cmd) { $candidates += $cmd.Path }
    foreach ($root in @($env:ProgramFiles, ${env:ProgramFiles(x86)})) {
      if (-not $root) { continue }
      # Git's mingw64 build is a native Windows program; its usr\bin one is MSYS's.
      $candidates += @("$root\Git\mingw64\bin\openssl.exe", "$root\Git\usr\bin\openssl.exe",
        "$root\OpenSSL-Win64\bin\openssl.exe")
    }
    foreach ($c in $candidates) {
      if (-not (Test-Path -LiteralPath $c)) { continue }
      $said = & { $ErrorActionPreference = 'Continue'; & $c version 2>$null }
      if ([string]$said -match '^OpenSSL ([3-9]|[1-9][0-9])\.') { return $c }
    }
    return $null
  }

  function Test-Yes([string]$Value) { return @('1', 'true', 'yes') -contains "$Value".Trim().ToLower() }

  $base = 'https://github.com/zaphodbeeblebrox3rd/venvoy/releases/latest/download'
  if ($env:VENVOY_RELEASE_URL) { $base = $env:VENVOY_RELEASE_URL.Trim().TrimEnd('/') }
  if ($base -match '^http://') {
    if (-not (Test-Yes $env:VENVOY_INSECURE_HTTP)) {
      Fail "refusing a plain http:// release URL: $base" 'use https://, a file:// URL or a path; or, on a network you trust, set VENVOY_INSECURE_HTTP=1'
    }
    Warn "$base is plain http: anyone on the network sees what is fetched and can hold back updates (the signature still guards the binary)"
  } elseif (($base -notmatch '^(https|file)://') -and -not [IO.Path]::IsPathRooted($base)) {
    Fail "the release URL is not https://, file:// or an absolute path: $base"
  }
  $checkSignature = -not (Test-Yes $env:VENVOY_ALLOW_UNSIGNED)
  $openssl = $null
  if ($checkSignature) {
    $openssl = Find-OpenSsl
    if (-not $openssl) {
      Fail 'no OpenSSL 3 here to check the release''s signature with (PowerShell cannot); nothing was installed' 'install Git for Windows (winget install Git.Git) or OpenSSL (winget install ShiningLight.OpenSSL.Light) and run this again; or use WSL with install.sh; or, accepting a tampered mirror, set VENVOY_ALLOW_UNSIGNED=1'
    }
  }
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
      Invoke-WebRequest -UseBasicParsing -Uri "$base/SHA256SUMS" -OutFile "$tmp\SHA256SUMS"
    } catch {
      Fail "could not download the release from ${base}: $($_.Exception.Message)" 'check the network, or set VENVOY_RELEASE_URL to a mirror'
    }
    if ($checkSignature) {
      $keyFile = "$tmp\release.pub.pem"
      $keyName = 'the venvoy release key'
      if ($env:VENVOY_RELEASE_PUBKEY) {
        $keyFile = $env:VENVOY_RELEASE_PUBKEY
        $keyName = $keyFile
        if (-not (Test-Path -LiteralPath $keyFile -PathType Leaf)) { Fail "VENVOY_RELEASE_PUBKEY names $keyFile, which cannot be read" }
        Warn "trusting the release key in $keyFile (VENVOY_RELEASE_PUBKEY) instead of the built-in one: whoever holds its private key can ship you a binary"
      } else {
        [IO.File]::WriteAllText($keyFile, $releaseKey + "`n")
      }
      try {
        Invoke-WebRequest -UseBasicParsing -Uri "$base/SHA256SUMS.sig" -OutFile "$tmp\SHA256SUMS.sig"
      } catch {
        Fail "the release at $base is not signed (no SHA256SUMS.sig could be downloaded); nothing was installed" 'a release from before signing, or a mirror that was tampered with; use the project''s release'
      }
      $ok = $false
      try {
        $raw = [Convert]::FromBase64String(([IO.File]::ReadAllText("$tmp\SHA256SUMS.sig")).Trim())
        if ($raw.Length -eq 64) {
          [IO.File]::WriteAllBytes("$tmp\sig.bin", $raw)
          & {
            $ErrorActionPreference = 'Continue'
            & $openssl pkeyutl -verify -pubin -inkey $keyFile -rawin -in "$tmp\SHA256SUMS" -sigfile "$tmp\sig.bin" 2>$null | Out-Null
          }
          $ok = ($LASTEXITCODE -eq 0)
        }
      } catch { $ok = $false }
      if (-not $ok) {
        Fail "SHA256SUMS.sig is not a valid signature of SHA256SUMS by $keyName; nothing was installed" 'the release was tampered with, or was not signed by the venvoy project; use the project''s release or a faithful mirror'
      }
      Write-Host "Signature verified ($keyName)"
    } else {
      Warn 'NOT checking the release''s signature (VENVOY_ALLOW_UNSIGNED): the checksums come from the same server as the binary, so a tampered mirror would go unnoticed'
    }

    $sums = @{}
    foreach ($line in Get-Content "$tmp\SHA256SUMS") {
      if ($line -match '^([0-9a-fA-F]{64}) [ *](.+)$' -and -not $sums.ContainsKey($Matches[2])) {
        $sums[$Matches[2]] = $Matches[1].ToLower()
      }
    }
    try {
      Invoke-WebRequest -UseBasicParsing -Uri "$base/VERSION" -OutFile "$tmp\VERSION"
    } catch {
      Fail "could not download $base/VERSION: $($_.Exception.Message)" 'check the network, or set VENVOY_RELEASE_URL to a mirror'
    }
    $version = (Get-Content "$tmp\VERSION" -TotalCount 1).Trim()
    if ($version -notmatch '^\d+\.\d+\.\d+') { Fail "$base/VERSION does not hold a version" }
    if ((Get-FileHash -Algorithm SHA256 "$tmp\VERSION").Hash.ToLower() -ne $sums['VERSION']) {
      Fail "$base/VERSION does not match its checksum in SHA256SUMS; nothing was installed" 'the release folder is incomplete or was tampered with'
    }
    $expected = $sums[$asset]
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
