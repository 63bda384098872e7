package transform

import (
	"strings"
	"testing"
)

type notesCase struct {
	name  string
	notes string
	want  Notes
}

const (
	hashLower = "bff0eb90c2006edade14063d4a2d13cf"
	hashUpper = "BFF0EB90C2006EDADE14063D4A2D13CF"
)

func notes(hash, emu, core, version string) Notes {
	var n Notes
	if hash != "" {
		n.RomHash = ptr(hash)
	}
	if emu != "" {
		n.Emulator = ptr(emu)
	}
	if core != "" {
		n.EmulatorCore = ptr(core)
	}
	if version != "" {
		n.EmulatorVersion = ptr(version)
	}
	return n
}

// notesCases is the shared table: TestParseNotes runs it and FuzzParseNotes
// is seeded with every input in it.
func notesCases() []notesCase {
	return []notesCase{
		{"new client format",
			"Did not pop.\nRetroAchievements Hash: " + hashLower + "\nEmulator: RALibRetro (123123)\nEmulator Version: 123",
			notes(hashLower, "RALibRetro", "123123", "123")},
		{"old MD5 label, upper-case hash",
			"doesn't trigger\nMD5: " + hashUpper + "\nEmulator: RetroArch (snes9x)",
			notes(hashLower, "RetroArch", "snes9x", "")},
		{"<br> separators",
			"text<br>RetroAchievements Hash: " + hashLower + "<br/>Emulator: RAVBA (vba)<br />Emulator Version: 1.0",
			notes(hashLower, "RAVBA", "vba", "1.0")},
		{"<BR> any case and spacing",
			"text<BR>MD5: " + hashLower + "<Br  />Emulator used: RASnes9x (snes)<bR/>",
			notes(hashLower, "RASnes9x", "snes", "")},
		{"literal backslash-n separators",
			`old note\nRetroAchievements Hash: ` + hashLower + `\nEmulator: RAP64 (mupen)\nEmulator Version: 0.9`,
			notes(hashLower, "RAP64", "mupen", "0.9")},
		{"literal backslash-r-backslash-n separators",
			`old note\r\nMD5: ` + hashLower + `\r\nEmulator Version: 2.1`,
			notes(hashLower, "", "", "2.1")},
		{"CRLF and CR line ends",
			"x\r\nRetroAchievements Hash: " + hashLower + "\r\nEmulator: RALibRetro (fceumm)\rEmulator Version: 1.2\r\n",
			notes(hashLower, "RALibRetro", "fceumm", "1.2")},
		{"no client lines", "The achievement popped while paused. 🎮", Notes{}},
		{"empty", "", Notes{}},
		{"multiple occurrences: last usable wins",
			"Emulator: Old (a)\nMD5: " + hashUpper + "\nRetroAchievements Hash: 0123456789abcdef0123456789abcdef\nMD5: not-a-hash\nEmulator: New (b)\nEmulator Version: 1\nEmulator Version: 2",
			notes("0123456789abcdef0123456789abcdef", "New", "b", "2")},
		{"hash with 31 digits is ignored", "RetroAchievements Hash: " + hashLower[:31], Notes{}},
		{"hash with 33 digits is ignored", "MD5: " + hashLower + "0", Notes{}},
		{"hash with non-hex digit is ignored", "MD5: " + hashLower[:31] + "g", Notes{}},
		{"hash followed by other words", "MD5: " + hashLower + " (verified)", notes(hashLower, "", "", "")},
		{"labels must start the line",
			"I used Emulator: Foo (bar) and my MD5: " + hashLower + " x Emulator Version: 3", Notes{}},
		{"leading whitespace before labels",
			"  \tRetroAchievements Hash: " + hashLower + "\n\u3000Emulator: RALibRetro (core)",
			notes(hashLower, "RALibRetro", "core", "")},
		{"labels in any case, space before colon",
			"RETROACHIEVEMENTS HASH : " + hashUpper + "\nemulator used  : X (y)\nEMULATOR VERSION:1.2.3",
			notes(hashLower, "X", "y", "1.2.3")},
		{"Emulator Version is not the emulator",
			"Emulator Version: 1.16.0", notes("", "", "", "1.16.0")},
		{"emulator without core", "Emulator: PCSX2", notes("", "PCSX2", "", "")},
		{"emulator with several groups: last one is the core",
			"Emulator: RetroArch (1.9.0) (mGBA)", notes("", "RetroArch (1.9.0)", "mGBA", "")},
		{"nested parentheses in core",
			"Emulator: RALibRetro (Beetle PSX (HW))", notes("", "RALibRetro", "Beetle PSX (HW)", "")},
		{"unbalanced parenthesis keeps the whole name",
			"Emulator: Weird) name", notes("", "Weird) name", "", "")},
		{"empty core", "Emulator: RAP64 ()", notes("", "RAP64", "", "")},
		{"core only", "Emulator: (mgba)", notes("", "", "mgba", "")},
		{"empty values are ignored", "Emulator:   \nEmulator Version:\nMD5:", Notes{}},
		{"unicode survives",
			"説明 😀\nEmulator: エミュ 🎮 (コア «x»)\nEmulator Version: v1.0‑β",
			notes("", "エミュ 🎮", "コア «x»", "v1.0‑β")},
		{"backslash not followed by n is text",
			`Emulator: C:\emu\RALibRetro (core)`, notes("", `C:\emu\RALibRetro`, "core", "")},
		{"html that is not br is text",
			"Emulator: <b>RA</b> (<i>core</i>)<bra>", notes("", "<b>RA</b>", "<i>core</i>", "")},
	}
}

func TestParseNotes(t *testing.T) {
	t.Parallel()
	for _, tc := range notesCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := ParseNotes(tc.notes)
			check := func(field string, got, want *string) {
				if show(got) != show(want) {
					t.Errorf("%s = %s, want %s", field, show(got), show(want))
				}
			}
			check("RomHash", got.RomHash, tc.want.RomHash)
			check("Emulator", got.Emulator, tc.want.Emulator)
			check("EmulatorCore", got.EmulatorCore, tc.want.EmulatorCore)
			check("EmulatorVersion", got.EmulatorVersion, tc.want.EmulatorVersion)
		})
	}
}

func TestParseNotesOneMegabyte(t *testing.T) {
	t.Parallel()
	// Long notes full of near-separators, labels mid-line, and the real
	// lines buried in the middle.
	filler := strings.Repeat("text < b > \\ x Emulator: no <br", 1<<20/64)
	n := filler + "<br>MD5: " + hashUpper + "\\nEmulator: RA (c)\n" + filler
	got := ParseNotes(n)
	if show(got.RomHash) != show(ptr(hashLower)) || show(got.Emulator) != `"RA"` || show(got.EmulatorCore) != `"c"` {
		t.Errorf("got hash %s emulator %s core %s", show(got.RomHash), show(got.Emulator), show(got.EmulatorCore))
	}
}
