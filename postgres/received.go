package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/retention"
)

// Received reports whether the item kind/key was received before
// (MarkReceived): migrate asks before it adds an annotation or an account
// it moved once, so that what was removed here since stays removed.
func (db *DB) Received(ctx context.Context, kind, key string) (bool, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM received WHERE kind = $1 AND key = $2`, text(kind), text(key)).Scan(&n); err != nil {
		return false, fmt.Errorf("index: received %s: %w", text(kind), err)
	}
	return n > 0, nil
}

// MarkReceived records the item kind/key as received; again is no error.
func (db *DB) MarkReceived(ctx context.Context, kind, key string) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO received (kind, key, at_ns) VALUES ($1, $2, $3) ON CONFLICT (kind, key) DO NOTHING`,
		text(kind), text(key), time.Now().UnixNano()); err != nil {
		return fmt.Errorf("index: received %s: %w", text(kind), err)
	}
	return nil
}

// SensorDeleted applies, once, what a sensor tells of a call it deleted
// (spanrec.SensorDeletion; package ship tells it). The central copy of the
// call is kept: the archive's own retention, legal holds and admins decide
// its fate. In one transaction:
//
//   - the deletion is recorded as received: told again (a sensor that
//     crashed before it took the deletion off its outbox), it does
//     nothing;
//   - if the central index has the call (the sensor's row, under the
//     call's ID or the one ForSensor gave it): when the sensor's files
//     were only on the sensor (FilesGone), the row's audio and pcap that
//     name them (the same path and SHA-256) are cleared, and a note says
//     what was deleted where, by whom, when and why; a user's deletion
//     (not a rule's, not the disk guard's) of a call whose files are in
//     the store adds the note too, and the central copy stays whole;
//   - each of those, and the deletion of a call the central index does
//     not have (deleted on the sensor before it was shipped), is an
//     audit event (auth.ActionSensorDelete) by "WHO@SENSOR".
//
// A rule's or the disk guard's deletion of a call whose files are in the
// store changes nothing here (the sensor's audit trail has it). It
// returns what it did, in words ("" for nothing).
func (db *DB) SensorDeleted(ctx context.Context, d spanrec.SensorDeletion) (string, error) {
	var did string
	err := db.inTx(ctx, "deletion on sensor of call "+text(string(d.Call)), func(tx pgx.Tx) error {
		did = ""
		key := receivedKey(d.Sensor, string(d.Call), fmt.Sprint(clampedNS(d.At)))
		tag, err := tx.Exec(ctx, `INSERT INTO received (kind, key, at_ns) VALUES ('sensor-deletion', $1, $2) ON CONFLICT (kind, key) DO NOTHING`,
			key, time.Now().UnixNano())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil // told before
		}
		ids := []string{text(string(d.Call)), text(string(d.Call.ForSensor(d.Sensor)))}
		var (
			id                             string
			audio, audioSum, pcap, pcapSum string
			notes                          string
		)
		err = tx.QueryRow(ctx, `SELECT id, audio, audio_sha256, pcap, pcap_sha256, notes FROM calls
			WHERE id = ANY($1) AND sensor = $2 ORDER BY id = $3 DESC LIMIT 1 FOR UPDATE`, ids, text(d.Sensor), ids[0]).
			Scan(&id, &audio, &audioSum, &pcap, &pcapSum, &notes)
		who := text(d.By) + "@" + text(d.Sensor)
		when := d.At.UTC().Format(time.RFC3339)
		why := ""
		if d.Reason != "" {
			why = " (" + text(d.Reason) + ")"
		}
		event := auth.Event{At: d.At, User: who, Action: auth.ActionSensorDelete, CallID: text(string(d.Call)), Remote: text(d.Remote)}
		switch {
		case err == pgx.ErrNoRows:
			did = fmt.Sprintf("deleted on sensor %s by %s at %s%s before it was shipped: the central index never had it", text(d.Sensor), text(d.By), when, why)
		case err != nil:
			return err
		default:
			event.CallID = id
			var cleared []string
			if d.FilesGone {
				if audio != "" && audio == text(d.Audio) && audioSum == text(d.AudioSHA256) {
					cleared = append(cleared, "audio")
					audio, audioSum = "", ""
				}
				if pcap != "" && pcap == text(d.PCAP) && pcapSum == text(d.PCAPSHA256) {
					cleared = append(cleared, "pcap")
					pcap, pcapSum = "", ""
				}
			}
			user := d.By != retention.ByRule && d.By != retention.ByDiskGuard
			switch {
			case len(cleared) > 0:
				did = fmt.Sprintf("%s deleted on sensor %s by %s at %s%s: the recording was kept only there", strings.Join(cleared, " and "), text(d.Sensor), text(d.By), when, why)
			case user:
				did = fmt.Sprintf("deleted on sensor %s by %s at %s%s; this central copy is kept", text(d.Sensor), text(d.By), when, why)
			default:
				return nil
			}
			var ns []string
			if err := json.Unmarshal([]byte(notes), &ns); err != nil {
				return fmt.Errorf("notes of call %s: %w", id, err)
			}
			b, err := json.Marshal(append(ns, did))
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE calls SET audio = $2, audio_sha256 = $3, pcap = $4, pcap_sha256 = $5, notes = $6 WHERE id = $1`,
				id, audio, audioSum, pcap, pcapSum, string(b)); err != nil {
				return err
			}
		}
		event.Detail = did
		_, err = tx.Exec(ctx, `INSERT INTO audit (at_ns, user_name, action, call_id, remote, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
			clampedNS(event.At), event.User, event.Action, event.CallID, event.Remote, event.Detail)
		return err
	})
	if err != nil {
		return "", err
	}
	return did, nil
}

// receivedKey is the key of an item received made of parts (a JSON array:
// unambiguous whatever bytes the parts hold).
func receivedKey(parts ...string) string {
	b, _ := json.Marshal(texts(parts)) // strings: never fails
	return string(b)
}
