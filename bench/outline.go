package main

import (
	"errors"

	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// outlineCanvas is an SVG canvas that draws text as the outlines of its
// glyphs, in the font that gonum/plot laid it out with (Liberation Sans,
// which it carries), instead of as <text> elements that name a font. A
// viewer then needs no font at all, and every chart looks the same in
// every browser and converter: no fallback font with other widths that
// overflows a legend or a label. (matplotlib's SVGs do the same by
// default.) The cost is that the text of a chart cannot be selected.
type outlineCanvas struct {
	*vgsvg.Canvas
}

// FillString fills the outlines of str's glyphs, with kerning, the
// baseline starting at pt: the same advances and kerning as
// gonum/plot's font.Face.Width, which laid the text out.
func (c outlineCanvas) FillString(f font.Face, pt vg.Point, str string) {
	var (
		buf  sfnt.Buffer
		ppem = fixed.Int26_6(f.Face.UnitsPerEm()) // one 26.6 unit per font unit
		// scale converts font units to lengths.
		scale = f.Font.Size / vg.Length(ppem)
		path  vg.Path
		x     fixed.Int26_6
		prev  sfnt.GlyphIndex
		open  bool // a contour is open in path
	)
	at := func(p fixed.Point26_6) vg.Point {
		// Glyph y grows downwards, the canvas's upwards.
		return vg.Point{X: pt.X + vg.Length(x+p.X)*scale, Y: pt.Y - vg.Length(p.Y)*scale}
	}
	for i, r := range str {
		idx, err := f.Face.GlyphIndex(&buf, r)
		if err != nil {
			continue
		}
		if i > 0 {
			if k, err := f.Face.Kern(&buf, prev, idx, ppem, xfont.HintingNone); err == nil {
				x += k
			} else if !errors.Is(err, sfnt.ErrNotFound) {
				continue
			}
		}
		segs, err := f.Face.LoadGlyph(&buf, idx, ppem, nil)
		if err == nil {
			for _, s := range segs {
				switch s.Op {
				case sfnt.SegmentOpMoveTo:
					if open {
						path.Close()
					}
					path.Move(at(s.Args[0]))
					open = true
				case sfnt.SegmentOpLineTo:
					path.Line(at(s.Args[0]))
				case sfnt.SegmentOpQuadTo:
					path.QuadTo(at(s.Args[0]), at(s.Args[1]))
				case sfnt.SegmentOpCubeTo:
					path.CubeTo(at(s.Args[0]), at(s.Args[1]), at(s.Args[2]))
				}
			}
			if open {
				path.Close()
				open = false
			}
		}
		if adv, err := f.Face.GlyphAdvance(&buf, idx, ppem, xfont.HintingNone); err == nil {
			x += adv
		}
		prev = idx
	}
	if len(path) > 0 {
		c.Fill(path)
	}
}
