package fakeapi

import (
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/rand"
	"strings"
	"time"
)

// The generator builds a catalogue (consoles, games, achievements, users),
// then tickets against it, every choice from the *rand.Rand it is given. The
// content is synthetic but shaped like the site's, awkward parts included.

type console struct {
	name  string
	cores []string // libretro cores / standalone emulators used on it
}

var consoles = []console{
	{"Mega Drive", []string{"Genesis Plus GX", "PicoDrive", "BlastEm"}},
	{"SNES/Super Famicom", []string{"snes9x", "bsnes-mercury", "Snes9x 2010"}},
	{"NES/Famicom", []string{"FCEUmm", "Mesen", "QuickNES", "Nestopia"}},
	{"Game Boy", []string{"Gambatte", "SameBoy", "mGBA"}},
	{"Game Boy Color", []string{"Gambatte", "SameBoy"}},
	{"Game Boy Advance", []string{"mGBA", "VBA-M", "gpSP"}},
	{"PlayStation", []string{"SwanStation", "Beetle PSX HW", "PCSX-ReARMed"}},
	{"PlayStation 2", []string{"PCSX2", "LRPS2"}},
	{"PlayStation Portable", []string{"PPSSPP"}},
	{"Nintendo 64", []string{"Mupen64Plus-Next", "ParaLLEl N64"}},
	{"Nintendo DS", []string{"melonDS", "DeSmuME"}},
	{"Master System", []string{"Genesis Plus GX", "Gearsystem", "PicoDrive"}},
	{"Game Gear", []string{"Genesis Plus GX", "Gearsystem"}},
	{"PC Engine/TurboGrafx-16", []string{"Beetle PCE FAST", "Beetle PCE"}},
	{"Arcade", []string{"FinalBurn Neo", "MAME 2003-Plus"}},
	{"Atari 2600", []string{"Stella", "Stella 2014"}},
	{"Atari Lynx", []string{"Handy", "Beetle Lynx"}},
	{"Sega CD", []string{"Genesis Plus GX", "PicoDrive"}},
	{"Saturn", []string{"Beetle Saturn", "Yabause"}},
	{"Dreamcast", []string{"Flycast"}},
	{"Neo Geo Pocket", []string{"Beetle NeoPop"}},
	{"MSX", []string{"blueMSX", "fMSX"}},
	{"WonderSwan", []string{"Beetle Cygne"}},
	{"Virtual Boy", []string{"Beetle VB"}},
}

type game struct {
	id      int64
	title   string
	console int // index into consoles
	icon    string
	achs    []*achievement
}

type achievement struct {
	id       int64
	title    string
	desc     string
	typ      *string
	points   int
	badge    string
	author   string
	promoted bool
}

type catalogue struct {
	games     []*game
	devs      []string
	reporters []string
}

var (
	titleHeads = []string{"Super", "Mega", "Hyper", "Final", "Legend of the", "Chrono", "Dragon", "Star",
		"Shadow", "Metal", "Pocket", "Galaxy", "Crystal", "Thunder", "Ninja", "Space", "Castle", "Puzzle",
		"Kid", "Turbo", "Phantom", "Cyber", "Iron", "Lost", "Royal", "Neon", "Wild", "Sky"}
	titleTails = []string{"Quest", "Fighter", "Warriors", "Adventure", "Racer", "Saga", "Blaster", "Knights",
		"Odyssey", "Tactics", "Striker", "Legends", "Chronicles", "Force", "Heroes", "Rangers", "Island",
		"Kingdom", "Dungeon", "Soldier", "Pinball", "Golf", "Rally", "Wrestling", "Detective"}
	titleSuffixes = []string{"", "", "", "", " II", " III", " 64", " Advance", " DX", ": The Lost Levels",
		" - Director's Cut", ": Episode Red", " Turbo", " Deluxe", " Gaiden", " '95", " & Friends"}
	unicodeTitles = []string{"ドラゴン伝説", "星のパズル", "ロックンナイト", "魔界の城", "がんばれ忍者くん", "聖剣の島",
		"Café Rumble", "Señor Blaster", "Ültra Kart", "Крепость", "마법의 성", "Über-Racer: Zürich"}
	titleTags = []struct {
		prefix string
		share  float64
	}{{"~Homebrew~ ", 0.08}, {"~Hack~ ", 0.10}, {"~Prototype~ ", 0.02}, {"~Unlicensed~ ", 0.02}, {"~Demo~ ", 0.01}}

	achTitles = []string{"First Steps", "Boss Rush", "No Damage", "Speed Demon", "Collector", "Perfectionist",
		"Secret Room", "Treasure Hunter", "Pacifist", "Untouchable", "Sharpshooter", "Game Over? No!", "The End",
		"Halfway There", "Master of Keys", "Lucky Seven", "Gold Rush", "Night Owl", "Iron Will", "Flawless Victory",
		"DEFAULT SETTINGS CHECK", "Who Needs Continues?", "100% Complete", "Hidden Path", "Déjà Vu", "勝利",
		"\"Not a Bug\"", "Back\\Slash", "Coin Hoarder", "Last Stand"}
	achDescs = []string{
		"Defeat the boss of stage %d without taking damage",
		"Collect all %d coins in world %d",
		"Finish the game on Hard difficulty",
		"Reach %d points in a single run",
		"Find the hidden room in stage %d",
		"Normal or Hard difficulty, any character but \"Man\", any buster charge. All other settings OFF.",
		"Clear area %d in under %d seconds",
		"Beat the game without using a continue",
		"Obtain the legendary sword (requires %d keys)",
		"Complete chapter %d — no items allowed",
	}
	achTypes  = []string{"progression", "win_condition", "missable"}
	achPoints = []int{0, 1, 2, 3, 3, 4, 5, 5, 5, 10, 10, 10, 25, 25, 50, 100}

	nameHeads = []string{"Retro", "Pixel", "Mega", "Shadow", "Dark", "Super", "Zero", "Blue", "Red", "Hyper",
		"Lucky", "Turbo", "Crimson", "Silent", "Neo", "Old", "Mr", "Lady", "Captain", "Sir", "Tiny", "Grand",
		"Mystic", "Cosmic", "Lazy", "Brave", "Quiet", "Happy", "8bit", "Arcade"}
	nameTails = []string{"Gamer", "Knight", "Fox", "Wolf", "Ninja", "Hunter", "Dragon", "Hedgehog", "Plumber",
		"Cat", "Bit", "Slayer", "Runner", "Monk", "Bard", "Mage", "Tiger", "Hawk", "Panda", "Pilot", "Sage",
		"Rogue", "Ghost", "Otter", "Falcon", "Golem", "Wizard", "Pirate"}

	noteTexts = []string{
		"Achievement did not trigger after beating the boss.",
		"Popped as soon as I loaded the save state, way too early.",
		"triggered at the title screen??",
		"I collected all the coins but nothing happened",
		"Got it during the demo/attract mode without playing.",
		"The counter resets when you enter the shop, so it never pops.",
		"Didn't unlock 😢 tried 3 times 🙃",
		"الإنجاز لم يعمل بعد هزيمة الزعيم الأخير",
		"ההישג לא נפתח אחרי השלב השני",
		"ボスを倒しても実績が解除されませんでした。",
		"Le succès ne se débloque pas après le niveau 3 — vraiment bizarre.",
		"He said \"it works on my machine\" but it doesn't on mine",
		"ROM path was C:\\Games\\Roms\\game (USA).sfc if that matters",
		"Tab\tseparated\tnotes\tand a CRLF line\r\nsecond line",
		"",
		"Unlocked on the wrong level: stage 2-1 instead of 2-4",
		"I think the memory address changed after the patch",
		"Hardcore mode, no cheats, no save states. Did not trigger at the end credits.",
		"<b>bold?</b> & ampersand < less than",
		"Zero width: a\u200bb, combining: e\u0301, replacement: \ufffd",
	}
	emuVersions = []string{"1.16.0", "1.17.0", "1.18.0", "1.19.1", "1.3.6.0", "1.4.0", "v1.15.0", "2.0.2", "0.1-5570"}
)

// oneOf draws an element of list.
func oneOf[T any](rng *rand.Rand, list []T) T { return list[rng.Intn(len(list))] }

func uniqueNames(rng *rand.Rand, n int, seen map[string]bool, digits bool) []string {
	out := make([]string, 0, n)
	for len(out) < n {
		name := oneOf(rng, nameHeads) + oneOf(rng, nameTails)
		if digits || rng.Intn(3) == 0 {
			name += fmt.Sprint(rng.Intn(1000))
		}
		if rng.Intn(10) == 0 {
			name = strings.ToLower(name)
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, name)
	}
	return out
}

func newCatalogue(rng *rand.Rand, tickets int) *catalogue {
	c := &catalogue{}
	seen := map[string]bool{}
	c.devs = uniqueNames(rng, 60, seen, false)
	c.reporters = uniqueNames(rng, 400+tickets/50, seen, true)

	nGames := min(120+tickets/500, 800)
	gameID, achID := int64(1000), int64(10000)
	for range nGames {
		gameID += 1 + int64(rng.Intn(60))
		g := &game{id: gameID, console: rng.Intn(len(consoles)), title: gameTitle(rng),
			icon: fmt.Sprintf("/Images/%06d.png", rng.Intn(100000))}
		nAch := 8 + rng.Intn(43)
		for range nAch {
			achID += 1 + int64(rng.Intn(5))
			a := &achievement{id: achID, title: oneOf(rng, achTitles), desc: achDesc(rng),
				points: oneOf(rng, achPoints), badge: fmt.Sprintf("%05d", rng.Intn(400000)),
				author: oneOf(rng, c.devs), promoted: rng.Float64() >= 0.08}
			if rng.Float64() < 0.35 {
				typ := oneOf(rng, achTypes)
				a.typ = &typ
			}
			g.achs = append(g.achs, a)
		}
		c.games = append(c.games, g)
	}
	return c
}

func gameTitle(rng *rand.Rand) string {
	var title string
	if rng.Float64() < 0.07 {
		title = oneOf(rng, unicodeTitles)
	} else {
		title = oneOf(rng, titleHeads) + " " + oneOf(rng, titleTails) + oneOf(rng, titleSuffixes)
	}
	x := rng.Float64()
	for _, tag := range titleTags {
		if x < tag.share {
			title = tag.prefix + title
			break
		}
		x -= tag.share
	}
	if rng.Float64() < 0.03 {
		title += " [Subset - Bonus]"
	}
	return title
}

func achDesc(rng *rand.Rand) string {
	f := oneOf(rng, achDescs)
	n := strings.Count(f, "%d")
	args := make([]any, n)
	for i := range args {
		args[i] = 1 + rng.Intn(99)
	}
	return fmt.Sprintf(f, args...)
}

func randHash(rng *rand.Rand) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rng.Uint64())
	return hex.EncodeToString(b[:])
}

// reportNotes produces the variety of ReportNotes the site holds: the modern
// client's trailer, the old "MD5:" form with <br> separators, notes whose
// line breaks were stored as a literal backslash-n, and plain user text.
func reportNotes(rng *rand.Rand, con console) string {
	text := oneOf(rng, noteTexts)
	hash := randHash(rng)
	core := oneOf(rng, con.cores)
	ver := oneOf(rng, emuVersions)
	switch x := rng.Float64(); {
	case x < 0.50: // modern client
		emu := "RALibRetro"
		if rng.Intn(3) == 0 {
			emu = "RetroArch"
		}
		return fmt.Sprintf("%s\nRetroAchievements Hash: %s\nEmulator: %s (%s)\nEmulator Version: %s", text, hash, emu, core, ver)
	case x < 0.58: // modern, standalone emulator without a core
		return fmt.Sprintf("%s\nRetroAchievements Hash: %s\nEmulator: %s\nEmulator Version: %s", text, hash, core, ver)
	case x < 0.68: // old web form
		sep := "<br>"
		if rng.Intn(2) == 0 {
			sep = "<br/>"
		}
		if rng.Intn(4) == 0 {
			hash = strings.ToUpper(hash)
		}
		s := text + sep + "MD5: " + hash
		if rng.Intn(2) == 0 {
			s += sep + "Emulator used: RALibRetro (" + core + ")"
		}
		return s
	case x < 0.74: // line breaks stored as the two characters \ and n
		return text + `\nRetroAchievements Hash: ` + hash + `\nEmulator: RALibRetro (` + core + `)\nEmulator Version: ` + ver
	case x < 0.77: // hash only
		return "RetroAchievements Hash: " + hash
	default: // newer reports often carry no trailer at all
		return text
	}
}

// choose draws x from rng and picks a value by the cumulative shares cuts.
func choose[T any](rng *rand.Rand, cuts []float64, vals ...T) T {
	return pick(rng.Float64(), cuts, vals...)
}

// pick returns vals[i] for the first cut x < cuts[i], or the last value.
func pick[T any](x float64, cuts []float64, vals ...T) T {
	for i, cut := range cuts {
		if x < cut {
			return vals[i]
		}
	}
	return vals[len(cuts)]
}

// pickGame skews towards the first games so some games collect many tickets
// (useful for g= mode paging) while the long tail has few. It returns the
// game's index.
func (c *catalogue) pickGame(rng *rand.Rand) int {
	x := rng.Float64()
	return int(x * x * float64(len(c.games)))
}

// newTicket builds a ticket for a random achievement: Open or Request if
// open, else closed out (rarely with a code the enum lacks) and, if
// resolved, with a ResolvedAt from at to limit.
func (c *catalogue) newTicket(rng *rand.Rand, id int64, at time.Time, open bool, limit time.Time) Ticket {
	g := c.games[c.pickGame(rng)]
	a := oneOf(rng, g.achs)
	con := consoles[g.console]
	reporter := oneOf(rng, c.reporters)
	t := Ticket{
		ID: id, AchievementID: a.id, AchievementTitle: a.title, AchievementDesc: a.desc,
		AchievementType: clonePtr(a.typ), Points: a.points, BadgeName: a.badge,
		AchievementAuthor: a.author, AchievementAuthorULID: ULIDFor(a.author),
		GameID: g.id, ConsoleName: con.name, GameTitle: g.title, GameIcon: g.icon,
		ReportedAt: at, ReportNotes: reportNotes(rng, con), ReportedBy: reporter, ReportedByULID: ULIDFor(reporter),
		Promoted: a.promoted,
	}
	// 3 is a code newer than the consumer knows.
	t.ReportType = choose(rng, []float64{0.75, 0.99}, TypeDidNotTrigger, TypeTriggeredAtWrongTime, 3)
	t.Hardcore = choose(rng, []float64{0.60, 0.85}, new(1), new(0), nil)
	if open {
		t.ReportState = choose(rng, []float64{0.12}, StateRequest, StateOpen)
		return t
	}
	t.ReportState = choose(rng, []float64{0.70, 0.94, 0.99}, StateResolved, StateClosed, StateQuarantined, 5)
	if !isResolvedState(t.ReportState) {
		return t
	}
	resolved := at.Add(time.Duration(600+rng.Int63n(400*24*3600)) * time.Second)
	if resolved.After(limit) { // at <= limit
		resolved = limit
	}
	t.ResolvedAt = &resolved
	// A few old tickets lost their resolver (deleted account): null.
	if rng.Float64() >= 0.02 {
		by := a.author
		switch x := rng.Float64(); {
		case x < 0.35:
			by = oneOf(rng, c.devs)
		case x < 0.45:
			by = reporter // reporters close their own tickets
		}
		ulid := ULIDFor(by)
		t.ResolvedBy, t.ResolvedByULID = &by, &ulid
	}
	return t
}

var lbTitles = []string{"Fastest Time", "High Score", "Any% Speedrun", "Boss Rush Time", "Most Coins",
	"Time Attack: Stage 1", "Lowest Score", "Longest Combo", "Survival Mode", "100% Time", "Ghost Race"}

// newLeaderboardTicket is newTicket for one of a random game's five
// leaderboards, whose ID, title and author derive from the game's index.
func (c *catalogue) newLeaderboardTicket(rng *rand.Rand, id int64, at time.Time, open bool, limit time.Time) Ticket {
	gi := c.pickGame(rng)
	g := c.games[gi]
	n := gi*8 + rng.Intn(5)
	author := c.devs[n%len(c.devs)]
	con := consoles[g.console]
	reporter := oneOf(rng, c.reporters)
	t := Ticket{
		ID: id, LeaderboardID: 50000 + int64(n), LeaderboardTitle: lbTitles[n%len(lbTitles)],
		AchievementAuthor: author, AchievementAuthorULID: ULIDFor(author),
		GameID: g.id, ConsoleName: con.name, GameTitle: g.title, GameIcon: g.icon,
		ReportedAt: at, ReportType: TypeLeaderboardDidNotStart + rng.Intn(4),
		ReportNotes: reportNotes(rng, con), ReportedBy: reporter, ReportedByULID: ULIDFor(reporter),
		Promoted: true,
	}
	t.Hardcore = choose(rng, []float64{0.5, 0.8}, new(1), new(0), nil)
	if open {
		t.ReportState = choose(rng, []float64{0.12}, StateRequest, StateOpen)
		return t
	}
	t.ReportState = choose(rng, []float64{0.65, 0.93}, StateResolved, StateClosed, StateQuarantined)
	if isResolvedState(t.ReportState) {
		r := at.Add(time.Duration(rng.Int63n(200*24*3600)) * time.Second)
		if r.After(limit) {
			r = limit
		}
		by := author
		if rng.Intn(3) == 0 {
			by = oneOf(rng, c.devs)
		}
		ulid := ULIDFor(by)
		t.ResolvedAt, t.ResolvedBy, t.ResolvedByULID = &r, &by, &ulid
	}
	return t
}

// generateTickets builds the initial tickets: IDs ascend with gaps (missing
// IDs 404), ReportedAt mostly follows the ID over ~6 years with jitter that
// puts some out of ID order, and a share of exact ties; the last is at start.
func (c *catalogue) generateTickets(rng *rand.Rand, n int, openShare float64, start time.Time) []Ticket {
	out := make([]Ticket, 0, n)
	const span = 6 * 365 * 24 * 3600
	step := float64(span) / float64(max(n, 1))
	id := int64(1000)
	var prev time.Time
	for i := 0; i < n; i++ {
		id += 1
		if rng.Float64() < 0.1 {
			id += 1 + int64(rng.Intn(3))
		}
		back := float64(n-1-i)*step + (rng.Float64()-0.5)*4*step
		at := start.Add(-time.Duration(max(back, 0)) * time.Second).Truncate(time.Second)
		if i > 0 && rng.Float64() < 0.05 {
			at = prev
		}
		if i == n-1 {
			at = start
		}
		prev = at
		out = append(out, c.newTicket(rng, id, at, rng.Float64() < openShare, start))
	}
	return out
}

// ULIDFor returns the stable ULID the simulator gives a user name: a 26
// character Crockford base32 string with a 2023-ish timestamp, derived from
// a hash so every run and every server agree.
func ULIDFor(name string) string {
	h1 := fnv.New64a()
	h1.Write([]byte(name))
	a := h1.Sum64()
	h2 := fnv.New64a()
	h2.Write([]byte("ulid:" + name))
	b := h2.Sum64()
	ms := uint64(1672531200000) + a%(2*365*24*3600*1000) // 2023-01-01 + up to 2y
	// 10 characters for the 48-bit time (after two zero bits), 16 for 80
	// random bits: the top 16 of a, then b.
	var buf [18]byte
	binary.BigEndian.PutUint64(buf[:8], ms<<14)
	binary.BigEndian.PutUint16(buf[8:], uint16(a>>48))
	binary.BigEndian.PutUint64(buf[10:], b)
	return crockford.EncodeToString(buf[:8])[:10] + crockford.EncodeToString(buf[8:])
}

var crockford = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// clonePtr returns a pointer to a copy of *p, or nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
