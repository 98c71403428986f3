-- Partition ownership for bus consumer groups (libs/bus/src/partitioned-consumer.ts).
--
-- Every live instance of a consumer group heartbeats its member row; the live members divide the
-- partitions among themselves (partition p goes to the (p mod n)-th live member by id). A
-- partition row names its owner and the lease the owner renews with each heartbeat; a claim takes
-- only a partition that is free, its own, or whose lease ran out (a dead or stalled owner).
--
-- The row also holds the partition's progress: the JetStream sequence of the last message
-- applied. A batch's effects, its inbox rows and this sequence commit in one transaction that
-- also checks the caller still owns the row at the sequence it started from, so an owner that
-- stalled and lost its lease can never commit again (fencing), and a new owner resumes exactly
-- after the last committed batch.
CREATE TABLE consumer_members (
  consumer      text        NOT NULL,
  member        text        NOT NULL,
  heartbeat_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, member)
);

CREATE TABLE consumer_partitions (
  consumer     text        NOT NULL,
  partition    integer     NOT NULL,
  owner        text,
  lease_until  timestamptz NOT NULL DEFAULT '-infinity',
  stream_seq   bigint      NOT NULL DEFAULT 0,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, partition)
);
